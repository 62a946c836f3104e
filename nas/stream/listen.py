"""`kws-nas listen MODEL.tflite [--device D] [--seconds S] [--input-file WAV]`: keyword spotting on a microphone.

Audio arrives in blocks of one stride (PortAudio through the PyPI package ``sounddevice``, 16 kHz mono
int16, or ``--input-file``, a wav played as if it were the microphone) and goes through the pipeline of
`kws-nas stream`: the streaming front end, the int8 model in TFLite Micro on the host and
RecognizeCommands post-processing (`nas.stream.postprocess`). A detection is printed when it is made.
It runs until Ctrl-C, ``--seconds`` or the end of ``--input-file``. Without sounddevice, PortAudio
(Debian libportaudio2) or an input device it stops with one error line (exit 2).
"""
from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nas.errors import ConfigError, DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nas.stream.cli import add_pipeline_arguments

    parser.add_argument("model", type=Path, help="int8 .tflite (kws-nas export's model.tflite)")
    parser.add_argument("--device", help="PortAudio input device, index or name (default: the system's default "
                                         "input; list them with `python -m sounddevice`)")
    parser.add_argument("--seconds", type=float, help="stop after this much audio (default: run until Ctrl-C)")
    parser.add_argument("--input-file", type=Path, help="a .wav fed in as if it came from the microphone")
    add_pipeline_arguments(parser)


def microphone_blocks(device: str | None, block_samples: int, sample_rate: int) -> Iterator[np.ndarray]:
    """int16 blocks of ``block_samples`` from a PortAudio input; a missing library or device is a DataError."""
    try:
        import sounddevice
    except ImportError:
        raise DataError("listen: the Python package sounddevice is not installed; expected it "
                        "(pip install sounddevice, or scripts/bootstrap.sh)") from None
    except OSError as err:  # sounddevice imports, but cannot load the PortAudio library
        raise DataError(f"listen: PortAudio not found ({err}); expected the Debian package libportaudio2") from None
    chosen = int(device) if device is not None and device.isdigit() else device
    try:
        stream = sounddevice.InputStream(samplerate=sample_rate, blocksize=block_samples, device=chosen,
                                         channels=1, dtype="int16")
    except (sounddevice.PortAudioError, ValueError) as err:
        raise DataError(f"listen: no audio input {'(default)' if device is None else repr(device)}: {err}; "
                        f"expected a microphone that records {sample_rate} Hz mono") from None
    with stream:
        while True:
            block, overflowed = stream.read(block_samples)
            if overflowed:
                print("listen: audio input overflowed (the model is slower than real time)", file=sys.stderr)
            yield block[:, 0].copy()


def file_blocks(path: Path, block_samples: int, sample_rate: int) -> Iterator[np.ndarray]:
    """int16 blocks of a wav, as a microphone would deliver them (the last one may be shorter)."""
    from nas.data.wav import read_wav, to_pcm16

    samples = to_pcm16(read_wav(path, sample_rate))
    for start in range(0, len(samples), block_samples):
        yield samples[start : start + block_samples]


class Listener:
    """Audio blocks in, keyword detections out: one inference per stride once a clip has arrived.

    Inferences fall on the same samples as `nas.stream.runner.inference_ends`, so a recording fed in
    blocks gives the detections `kws-nas stream` gives on it whole.
    """

    def __init__(self, frontend, runner, config, names: list[str], stride_ms: int) -> None:
        from nas.data.streaming import StreamingFrontEnd, new_frames_per_inference
        from nas.stream.postprocess import RecognizeCommands, softmax_table

        self.frontend, self.runner, self.names = frontend, runner, names
        self.hop = new_frames_per_inference(frontend, stride_ms) * frontend.stride_samples
        self.front = StreamingFrontEnd(frontend)
        table = None if runner.output.is_softmax else softmax_table(runner.output.scale)
        self.recognizer = RecognizeCommands(runner.output.n_classes, config, table)
        self.pending = np.zeros(0, np.int16)  # samples not yet pushed into the front end
        self.received = 0  # samples seen so far
        self.next_end = frontend.clip_samples  # sample count at which the next inference runs

    def feed(self, block: np.ndarray):
        """The keyword detections (`nas.stream.metrics.Detection`) the samples of ``block`` complete."""
        from nas.stream.metrics import keyword_detections

        self.pending = np.concatenate([self.pending, block])
        self.received += len(block)
        decisions = []
        while self.received >= self.next_end:
            take = len(self.pending) - (self.received - self.next_end)
            self.front.push(self.pending[:take])
            self.pending = self.pending[take:]
            output = self.runner.run(self.front.features()[None])[0]
            decisions.append(self.recognizer.process(output, self.next_end * 1000 // self.frontend.sample_rate))
            self.next_end += self.hop
        keywords = [n for n in self.names if not n.startswith("_")]
        return keyword_detections(decisions, self.names, keywords)


def run(args: argparse.Namespace) -> int:
    from nas.stream.cli import class_names, postprocess_config
    from nas.stream.runner import TflmHostRunner
    from nas.train.evaluate_cli import tflite_candidate

    if args.seconds is not None and not args.seconds > 0:
        raise ConfigError(f"--seconds must be > 0, got {args.seconds}")
    if args.input_file is not None and args.device is not None:
        raise ConfigError("--device and --input-file: give one audio source, not both")
    config = postprocess_config(args)
    model, candidate = tflite_candidate(args.model, args.frontend)
    frontend = candidate.frontend
    runner = TflmHostRunner(model)
    listener = Listener(frontend, runner, config, class_names(args.model, runner.output.n_classes), args.stride_ms)
    rate = frontend.sample_rate
    blocks = (file_blocks(args.input_file, listener.hop, rate) if args.input_file is not None
              else microphone_blocks(args.device, listener.hop, rate))
    limit = None if args.seconds is None else int(args.seconds * rate)
    count = 0
    first = next(blocks, np.zeros(0, np.int16))  # opens the input: a missing device fails before the banner
    source = args.input_file or f"input device {args.device or '(default)'}"
    print(f"listening to {source} with {args.model.name}: an inference every {args.stride_ms} ms"
          f"{'' if args.input_file else ', Ctrl-C to stop'}", flush=True)
    try:
        for block in itertools.chain([first], blocks):
            if limit is not None:
                block = block[: max(0, limit - listener.received)]
            for det in listener.feed(block):
                count += 1
                print(f"{det.time_s:9.2f} s  {det.label:<8} score {det.score}/255", flush=True)
            if limit is not None and listener.received >= limit:
                break
    except KeyboardInterrupt:
        pass
    finally:
        blocks.close()  # closes the microphone stream
    print(f"{count} detections in {listener.received / rate:.1f} s of audio")
    return 0
