"""
Tracking on synthetic sequences of real image content: ids, jitter, lag and speed.

Uses the clips of :mod:`pose3d_ros.evaluation.sequences` (the player of messi5.jpg pasted
into canvases) and prints markdown tables:

1. id switches: the player translated and scaled (30 frames), and the player crossing
   his mirror image (36 frames; switches while the two are apart, and in all);
2. jitter: RMS frame-to-frame motion on a still photograph with fresh pixel noise
   (sigma 4) per frame, raw against One Euro smoothed, and the lag of the smoothed values
   behind the raw ones on a photograph sliding 8 px per frame;
3. speed: frames per second on the translated clip with the proposal sources on every
   frame against landmark-driven regions (sources every 10 frames), same run,
   interleaved: BlazePose's detector on the full frame, on tiles too, and the default
   sources (HOG and the search: tiles to grid 6 and the frame-edge squares, dealt out to
   12 detection frames; all of them then run only when the tracker needs them).

4. identities on the moving composites of several real people
   (:data:`~pose3d_ros.evaluation.sequences.SCENARIOS`, at 10 and 30 fps): recall,
   false alarms, fragmentation (distinct ids per true person), id switches, id jumps
   (an id passing to another person), IDF1, the gaps after which the id came back, and
   the frames per second, with the default stream settings and without re-identification
   (``reid`` false), same run;
5. people hidden behind another
   (:func:`~pose3d_ros.evaluation.sequences.hidden_cases`: each ordered pair of cut-outs
   with a standing one in front, five durations): per case how long the person behind is
   out of view and whether their id comes back, and the share of those hidden up to 2 s
   who keep it.

Usage: python bench/tracking.py [--device cpu|cuda] [--fps 10 30] [--tables 1 2 3 4 5]
[--world-min-cutoff HZ] [--world-beta B] (the last two change the 3D joints' One Euro
filter from the default 0.1 Hz and 10)
"""

import argparse
import sys
import time

import numpy as np
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.one_euro import CAMERA_JOINTS, OneEuroParameters, WORLD_LANDMARKS
from pose3d_ros.estimation.pipeline import Pipeline, PipelineConfig
from pose3d_ros.estimation.proposals import DETECTOR_ONLY
from pose3d_ros.estimation.tracking import TrackingConfig
from pose3d_ros.evaluation import sequences
from pose3d_ros.samples import fetch_samples, fetch_street_photos, read_player, read_rgb
from pose3d_ros.settings.schema import settings_named
from pose3d_ros.settings.surfaces import add_arguments

RAW = PipelineConfig(tracker=TrackingConfig(smoothing=False))
#: The issue's target: a person hidden up to this long keeps their id.
HIDDEN_UP_TO_S = 2.0


def main() -> int:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--fps', type=float, nargs='+', default=[10.0, 30.0],
                        help='frame rates of the moving composites')
    parser.add_argument('--tables', type=int, nargs='+', default=[1, 2, 3, 4, 5],
                        choices=range(1, 6), help='which tables to print (1-3 share a run)')
    add_arguments(parser, settings_named(TrackingConfig, 'world_min_cutoff', 'world_beta'))
    args = parser.parse_args()
    chosen = OneEuroParameters(args.world_min_cutoff, args.world_beta,
                               CAMERA_JOINTS.derivative_cutoff)
    defaults = PoseEstimator(EstimatorConfig(device=args.device))
    with_tiles = PoseEstimator(EstimatorConfig(device=args.device, **DETECTOR_ONLY))
    full_frame = PoseEstimator(EstimatorConfig(
        device=args.device, **{**DETECTOR_ONLY, 'detector_grids': (1,)}))
    print(f'device: {with_tiles.device}\n')
    if {1, 2, 3} & set(args.tables):
        one_person_tables(full_frame, with_tiles, defaults, chosen)
    if 4 in args.tables:
        identity_table(defaults, args.fps)
    if 5 in args.tables:
        hidden_table(defaults, args.fps)
    return 0


def one_person_tables(full_frame: PoseEstimator, with_tiles: PoseEstimator,
                      defaults: PoseEstimator, chosen: OneEuroParameters) -> None:
    """Print the id, jitter and speed tables of the clips of one person."""
    photo = read_rgb(fetch_samples() / 'messi5.jpg')
    player = read_player()

    translated = sequences.translated(player)
    found = sequences.run(Pipeline(full_frame), translated)
    crossing = sequences.crossing(player)
    crossed = sequences.run(Pipeline(with_tiles), crossing)
    print('| clip | frames | person | found in | id switches while apart | id switches |')
    print('| --- | --- | --- | --- | --- | --- |')
    print(f'| translated and scaled | {len(found)} | player | '
          f'{sum(f["a"] is not None for f in found)} | - | '
          f'{sequences.id_switches(found, "a")} |')
    for label, name in (('a', 'player (in front)'), ('b', 'mirror image (behind)')):
        print(f'| crossing | {len(crossed)} | {name} | '
              f'{sum(f[label] is not None for f in crossed)} | '
              f'{sequences.id_switches(crossed, label, crossing.apart)} | '
              f'{sequences.id_switches(crossed, label)} |')

    still = sequences.noisy_still(photo)
    moving = sequences.moving(photo)
    raw_still = sequences.run(Pipeline(full_frame, RAW), still)
    raw = sequences.jitter(raw_still)
    raw_moving = sequences.run(Pipeline(full_frame, RAW), moving)
    print('\n| 3D joint filter (min_cutoff Hz, beta) | quantity | raw jitter | smoothed jitter '
          '| reduction | lag (frames) |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name, world in (('this run', chosen), ("MediaPipe's world landmarks", WORLD_LANDMARKS)):
        config = PipelineConfig(tracker=TrackingConfig(
            world_min_cutoff=world.min_cutoff, world_beta=world.beta,
            derivative_cutoff=world.derivative_cutoff))
        smooth = sequences.jitter(sequences.run(Pipeline(full_frame, config), still))
        lags = sequences.lag_frames(
            raw_moving, sequences.run(Pipeline(full_frame, config), moving))
        for key, unit, scale in (('2d', 'px', 1.0), ('3d', 'mm', 1e3), ('root', 'mm', 1e3)):
            print(f'| {name} ({world.min_cutoff:g}, {world.beta:g}) | {key} | '
                  f'{raw[key] * scale:.2f} {unit} | {smooth[key] * scale:.2f} {unit} | '
                  f'{raw[key] / smooth[key]:.1f}x | {lags[key]:.2f} |')

    print('\n| estimator | detector runs | frames per second (median of 3) | ratio |')
    print('| --- | --- | --- | --- |')
    estimators = ((full_frame, 'full frame'), (with_tiles, 'tiles 2, 3'),
                  (defaults, 'defaults: HOG, the search (tiles 4, 6, frame edges)'))
    settings = [(name, every, estimator, label) for estimator, label in estimators
                for name, every in (('detector every frame', 1),
                                    ('landmark-driven, detector every 10', 10))]
    times = {key[0::3]: [] for key in settings}
    detections = {}
    for repeat in range(3):  # interleaved, so that a slower spell hits every setting
        for name, every, estimator, label in settings:
            stream = Pipeline(estimator, PipelineConfig(detect_every=every))
            start = time.perf_counter()
            result = sequences.run(stream, translated)
            times[name, label].append((time.perf_counter() - start) / len(result))
            detections[name, label] = sum(f['detected'] for f in result)
    rates = {key: 1.0 / float(np.median(values)) for key, values in times.items()}
    for name, _, _, label in settings:
        base = rates['detector every frame', label]
        print(f'| {name}, {label} | {detections[name, label]} / {len(translated.frames)} | '
              f'{rates[name, label]:.1f} | {rates[name, label] / base:.2f} |')


def identity_table(estimator: PoseEstimator, rates: list) -> None:
    """Print the identity measures on the moving composites, with and without re-id."""
    print('\n| clip | fps | tracker | recall | false alarms | fragmentation | id switches '
          '| id jumps | IDF1 | gaps with the id back (s) | frames per second |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    configs = (('defaults', PipelineConfig()),
               ('without re-id', PipelineConfig(tracker=TrackingConfig(reid=False))))
    directory = fetch_samples()
    fetch_street_photos()
    for fps in rates:
        for clip in sequences.moving_clips(directory, fps):
            for name, config in configs:
                start = time.perf_counter()
                results = sequences.track(Pipeline(estimator, config), clip)
                rate = len(results) / (time.perf_counter() - start)
                found = sequences.measured(clip, results)
                gaps = ', '.join(f'{"yes" if g.kept else "no"} ({g.seconds:.1f})'
                                 for g in found.gaps) or '-'
                print(f'| {clip.name} | {fps:g} | {name} | {found.recall:.2f} | '
                      f'{found.false_alarms} | {found.fragmentation:.2f} | '
                      f'{found.id_switches} | {found.id_jumps} | {found.idf1:.2f} | {gaps} | '
                      f'{rate:.1f} |', flush=True)


def hidden_table(estimator: PoseEstimator, rates: list) -> None:
    """Print, per hidden case, how long the person behind is hidden and if the id is back."""
    print('\n| case | fps | out of view (s) | id before | id back | id switches | id jumps '
          '| fragmentation |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    directory = fetch_samples()
    fetch_street_photos()
    kept = {fps: [] for fps in rates}
    for fps in rates:
        for clip in sequences.moving_clips(directory, fps, sequences.hidden_cases()):
            found = sequences.measured(clip, sequences.track(Pipeline(estimator), clip))
            behind = [gap for gap in found.gaps if gap.person == 1]
            kept[fps].extend(gap.kept for gap in behind
                             if gap.tracked and gap.seconds <= HIDDEN_UP_TO_S)
            print(f'| {clip.name} | {fps:g} | '
                  f'{", ".join(f"{g.seconds:.1f}" for g in behind) or "-"} | '
                  f'{", ".join("yes" if g.tracked else "no" for g in behind) or "-"} | '
                  f'{", ".join("yes" if g.kept else "no" for g in behind) or "-"} | '
                  f'{found.id_switches} | {found.id_jumps} | {found.fragmentation:.2f} |',
                  flush=True)
    for fps, values in kept.items():
        print(f'\n{fps:g} fps: of those with an id hidden up to {HIDDEN_UP_TO_S:g} s, '
              'keeping it: '
              f'{sum(values)} of {len(values)} ({np.mean(values) if values else np.nan:.0%})')


if __name__ == '__main__':
    sys.exit(main())
