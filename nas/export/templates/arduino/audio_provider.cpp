// Default audio provider: the PDM microphone of the Arduino Nano 33 BLE (Sense), through the PDM
// library of the Arduino mbed core. Define KWS_USE_PDM to use it on another board with that library.
#include "audio_provider.h"

#if defined(ARDUINO_ARDUINO_NANO33BLE) && !defined(KWS_USE_PDM)
#define KWS_USE_PDM
#endif

#ifdef KWS_USE_PDM

#include <Arduino.h>
#include <PDM.h>

#include "frontend_config.h"

#ifndef KWS_PDM_GAIN
#define KWS_PDM_GAIN 20  // the PDM library's default gain for this microphone
#endif

namespace {

int16_t chunk[256];                   // one PDM callback's worth of samples
int16_t* volatile target = nullptr;   // the clip being filled
volatile unsigned wanted = 0, filled = 0;

// Runs in interrupt context whenever the PDM library has samples.
void on_pdm_data() {
  int bytes = PDM.available();
  if (bytes > (int)sizeof(chunk)) bytes = sizeof(chunk);
  PDM.read(chunk, bytes);
  for (int i = 0; i < bytes / 2 && filled < wanted; i++) target[filled++] = chunk[i];
}

}  // namespace

bool kws_audio_begin(void) {
  PDM.onReceive(on_pdm_data);
  PDM.setGain(KWS_PDM_GAIN);
  return PDM.begin(1, KWS_SAMPLE_RATE_HZ) == 1;
}

bool kws_read_audio(int16_t* audio, unsigned samples) {
  noInterrupts();
  target = audio;
  filled = 0;
  wanted = samples;
  interrupts();
  while (filled < samples) delay(1);  // 1 s of recording
  noInterrupts();
  wanted = 0;
  interrupts();
  return true;
}

#else  // no microphone driver for this target: replace these two functions

bool kws_audio_begin(void) { return false; }

bool kws_read_audio(int16_t* audio, unsigned samples) {
  (void)audio;
  (void)samples;
  return false;
}

#endif
