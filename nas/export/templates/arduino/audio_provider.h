// The sketch's only board-specific part: where 1 s of audio comes from.
//
// Replace audio_provider.cpp for your microphone (or to play clips from flash). The contract:
//   kws_audio_begin()               called once from setup(); false stops the sketch with a message.
//   kws_read_audio(audio, samples)  fills `samples` (= KWS_CLIP_SAMPLES) 16-bit mono PCM samples at
//                                   KWS_SAMPLE_RATE_HZ, full scale = +-32768; false skips this loop().
// The default reads the Nano 33 BLE (Sense)'s PDM microphone; on any other target it returns false.
#ifndef KWS_AUDIO_PROVIDER_H_
#define KWS_AUDIO_PROVIDER_H_

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

bool kws_audio_begin(void);
bool kws_read_audio(int16_t* audio, unsigned samples);

#ifdef __cplusplus
}
#endif

#endif  // KWS_AUDIO_PROVIDER_H_
