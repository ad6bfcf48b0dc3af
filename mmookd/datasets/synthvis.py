# Copyright (c) mmookd authors. All rights reserved.
"""SynthVIS: a generated video instance segmentation benchmark.

SynthVIS is a small, seeded, YouTube-VIS-format dataset that runs on a CPU
and stresses what offline-to-online distillation is meant to help with:

* a long tail of classes (the 8 shapes of ``SYNTHVIS_CLASSES``, the most
  frequent about 35% of the instances, the rarest about 1%);
* look-alikes: several instances of one class with a similar colour in one
  frame, told apart only by a subtle identity cue (a stripe texture and a
  small mark at a fixed place in the object's own frame, rotating with it);
* crossings and occlusions: objects move through each other, the one above
  hides the one below (a fixed z-order), and the annotations are the
  *visible* masks;
* appearance drift over time: scale, rotation, hue and brightness change
  smoothly, and so does the background (panning, lighting);
* objects that enter and leave the frame (and come back with their id);
* a long validation split beside the short one (like YouTube-VIS 2022): the
  long videos have more frames and a larger frame interval, so objects move
  and drift several times further between two frames.

Shape conventions used below: ``H, W`` frame height and width, ``T`` frames
in a video, ``N`` instances in a video, ``S`` simulation steps of a video
(``S = (T - 1) * frame_interval + 1``; frame ``t`` shows step
``t * frame_interval``).

Layout written by :func:`generate_synthvis`::

    out_dir/
      annotations/synthvis_train.json       YouTube-VIS format
      annotations/synthvis_val_short.json   short validation videos
      annotations/synthvis_val_long.json    long validation videos
      annotations/synthvis_val.json         short + long in one file
      train/JPEGImages/train_0001/00000.jpg ...
      val/JPEGImages/short_0001/00000.jpg, val/JPEGImages/long_0001/00000.jpg

Frame files are named by their simulation step, so a long video with frame
interval 3 holds ``00000.jpg, 00003.jpg, ...`` (YouTube-VIS names its
sampled frames the same way). Video and annotation ids of the validation
splits are unique across short and long, so ``synthvis_val.json`` keeps the
ids of the two split files.

The same seed gives byte-identical JSON files (and JPEG files, for one
OpenCV build); a different seed gives different data.

Example:
    >>> from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
    >>> result = generate_synthvis('data/synthvis', seed=0)
    >>> result['ann_files']['val']
    'data/synthvis/annotations/synthvis_val.json'
"""
import colorsys
import copy
import dataclasses
import json
import os
import os.path as osp
import re
import shutil
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmdet.registry import DATASETS

from .metainfo import SYNTHVIS_CLASSES
from .vis_dataset import VISDataset

SPLITS = ('train', 'val_short', 'val_long')
# split -> (image folder under out_dir, video name prefix, stream id)
_SPLIT_INFO = {
    'train': ('train', 'train', 1),
    'val_short': ('val', 'short', 2),
    'val_long': ('val', 'long', 3),
}
_VIDEO_DIR_PATTERN = re.compile(r'^(train|short|long)_\d{4,}$')
# Target instance share of each class of SYNTHVIS_CLASSES (the long tail).
DEFAULT_CLASS_SHARES = (0.35, 0.21, 0.14, 0.10, 0.08, 0.06, 0.05, 0.01)


@dataclass
class SynthVISConfig:
    """Parameters of a SynthVIS set (the defaults make the default set).

    Lengths are in pixels, speeds in pixels per simulation step, angles in
    degrees; one step is one frame of the short splits. A pair ``(lo, hi)``
    is a range that a value is drawn from uniformly (inclusive for ints).

    Args:
        frame_size (tuple[int, int]): Frame ``(height, width)``.
            Defaults to (128, 128).
        num_train_videos (int): Videos in the train split. Defaults to 300.
        train_length (tuple[int, int]): Frames per train video.
            Defaults to (12, 16).
        num_val_short_videos (int): Videos in the short validation split.
            Defaults to 24.
        val_short_length (tuple[int, int]): Frames per short validation
            video. Defaults to (12, 16).
        num_val_long_videos (int): Videos in the long validation split.
            Defaults to 12.
        val_long_length (tuple[int, int]): Frames per long validation
            video. Defaults to (36, 44).
        short_frame_interval (int): Steps between two frames of the train
            and short validation videos. Defaults to 1.
        long_frame_interval (int): Steps between two frames of the long
            validation videos: objects move and drift this many times
            further between frames than in the short split. Defaults to 3.
        class_shares (tuple[float, ...]): Target share of the instances of
            each class of ``SYNTHVIS_CLASSES`` (same order; normalised).
            Each split realises them by exact counts (largest remainder;
            every class gets at least one instance when the split has at
            least as many instances as classes).
            Defaults to (0.35, 0.21, 0.14, 0.10, 0.08, 0.06, 0.05, 0.01).
        instances_per_video (tuple[int, int]): Instances per video.
            Defaults to (2, 5).
        lookalike_prob (float): Chance that a video holds a group of
            look-alikes: instances of one class with a similar colour and
            size. Defaults to 0.5.
        lookalike_group_size (tuple[int, int]): Size of such a group.
            Defaults to (2, 3).
        lookalike_color_jitter (float): Largest hue difference (as a
            fraction of the hue circle) between look-alikes; saturation and
            value differ by at most twice that. Defaults to 0.03.
        crossing_prob (float): Chance that a video holds a steered crossing:
            two instances (two look-alikes when the video has them) pass
            through the same point at the same step. Defaults to 0.7.
        radius_range (tuple[float, float]): Object radius (half its size)
            at scale 1. Defaults to (9.0, 16.0).
        speed_range (tuple[float, float]): Object speed in px per step.
            Defaults to (1.0, 3.0).
        turn_rate (float): Largest steady turn of the heading, in degrees
            per step (each object also gets a small random turn noise).
            Defaults to 3.0.
        exit_prob (float): Chance that an object may leave the frame (its
            bouncing box reaches beyond the frame) and come back; such an
            object may also start outside and enter. Other objects bounce
            inside the frame, at most partly cut by its border.
            Defaults to 0.3.
        scale_drift (float): Amplitude of the smooth oscillation of the
            log-scale of an object (0.2 means sizes in about [0.82, 1.22]
            times the base size). Defaults to 0.2.
        scale_period (tuple[float, float]): Period of that oscillation in
            steps. Defaults to (30.0, 90.0).
        rotation_speed (float): Largest rotation speed in degrees per step.
            Defaults to 5.0.
        class_hue_jitter (float, optional): Objects of class ``k`` of
            ``K`` get a hue drawn within this distance (a fraction of the
            hue circle) of the class hue ``k / K``: like real categories,
            each class has a typical colour besides its shape, so that a
            small model trained from scratch on a CPU learns the classes
            (shape alone is learnt far too slowly at this frame size).
            Look-alikes share a class and a colour either way. ``None``:
            hues uniform over the circle, shape is the only class cue.
            Defaults to 0.03.
        hue_drift (float): Largest hue drift in degrees per step.
            Defaults to 0.3.
        brightness_drift (float): Amplitude of the relative oscillation of
            an object's brightness. Defaults to 0.15.
        cue_contrast (float): Darkening of the identity stripes (0: no
            stripes). Defaults to 0.3.
        mark_radius (float): Radius of the identity mark, relative to the
            object radius (0: no mark). Defaults to 0.22.
        min_object_contrast (float): Smallest distance (RGB in [0, 1])
            between an object's colour and the mean background colour.
            Defaults to 0.3.
        background_pan_speed (float): Largest panning speed of the
            background texture in px per step. Defaults to 0.3.
        lighting_drift (float): Amplitude of the relative oscillation of
            the frame's global brightness. Defaults to 0.08.
        noise_std (float): Std of the per-pixel Gaussian noise added to
            every frame, in 8-bit grey levels. Defaults to 3.0.
        min_visible_pixels (int): A visible mask smaller than this is
            annotated as absent (``null``) in that frame. Defaults to 8.
        jpeg_quality (int): JPEG quality of the frames (1-100).
            Defaults to 90.
    """

    frame_size: Tuple[int, int] = (128, 128)
    num_train_videos: int = 300
    train_length: Tuple[int, int] = (12, 16)
    num_val_short_videos: int = 24
    val_short_length: Tuple[int, int] = (12, 16)
    num_val_long_videos: int = 12
    val_long_length: Tuple[int, int] = (36, 44)
    short_frame_interval: int = 1
    long_frame_interval: int = 3
    class_shares: Tuple[float, ...] = DEFAULT_CLASS_SHARES
    instances_per_video: Tuple[int, int] = (2, 5)
    lookalike_prob: float = 0.5
    lookalike_group_size: Tuple[int, int] = (2, 3)
    lookalike_color_jitter: float = 0.03
    crossing_prob: float = 0.7
    radius_range: Tuple[float, float] = (9.0, 16.0)
    speed_range: Tuple[float, float] = (1.0, 3.0)
    turn_rate: float = 3.0
    exit_prob: float = 0.3
    scale_drift: float = 0.2
    scale_period: Tuple[float, float] = (30.0, 90.0)
    rotation_speed: float = 5.0
    class_hue_jitter: Optional[float] = 0.03
    hue_drift: float = 0.3
    brightness_drift: float = 0.15
    cue_contrast: float = 0.3
    mark_radius: float = 0.22
    min_object_contrast: float = 0.3
    background_pan_speed: float = 0.3
    lighting_drift: float = 0.08
    noise_std: float = 3.0
    min_visible_pixels: int = 8
    jpeg_quality: int = 90

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                setattr(self, f.name, tuple(value))
        self.validate()

    def validate(self) -> None:
        """Check every field; raise ``ValueError`` naming the bad one."""

        def fail(name, why):
            raise ValueError(f'SynthVISConfig.{name} = '
                             f'{getattr(self, name)!r}: {why}')

        def is_int(value):
            return isinstance(
                value, (int, np.integer)) and not isinstance(value, bool)

        def check_range(name, low, integer=False):
            value = getattr(self, name)
            if len(value) != 2 or value[0] > value[1]:
                fail(name, 'expected a pair (lo, hi) with lo <= hi')
            if value[0] < low:
                fail(name, f'values must be >= {low}')
            if integer and not all(map(is_int, value)):
                fail(name, 'values must be integers')

        if (len(self.frame_size) != 2 or not all(map(is_int, self.frame_size))
                or min(self.frame_size) < 16):
            fail('frame_size', 'expected (height, width), both >= 16')
        for name in ('num_train_videos', 'num_val_short_videos',
                     'num_val_long_videos'):
            if not is_int(getattr(self, name)) or getattr(self, name) < 0:
                fail(name, 'expected an integer >= 0')
        for name in ('train_length', 'val_short_length', 'val_long_length'):
            check_range(name, 1, integer=True)
        for name in ('short_frame_interval', 'long_frame_interval'):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                fail(name, 'expected an integer >= 1')
        if len(self.class_shares) != len(SYNTHVIS_CLASSES):
            fail(
                'class_shares',
                f'expected {len(SYNTHVIS_CLASSES)} values, one per class '
                f'of {SYNTHVIS_CLASSES}')
        if min(self.class_shares) < 0 or sum(self.class_shares) <= 0:
            fail('class_shares', 'expected values >= 0 with a positive sum')
        check_range('instances_per_video', 1, integer=True)
        check_range('lookalike_group_size', 2, integer=True)
        check_range('radius_range', 2.0)
        check_range('speed_range', 0.0)
        check_range('scale_period', 1.0)
        for name in ('lookalike_prob', 'crossing_prob', 'exit_prob',
                     'cue_contrast'):
            if not 0 <= getattr(self, name) <= 1:
                fail(name, 'expected a value in [0, 1]')
        for name in ('lookalike_color_jitter', 'turn_rate', 'scale_drift',
                     'rotation_speed', 'hue_drift', 'brightness_drift',
                     'mark_radius', 'min_object_contrast',
                     'background_pan_speed', 'lighting_drift', 'noise_std',
                     'min_visible_pixels'):
            if getattr(self, name) < 0:
                fail(name, 'expected a value >= 0')
        if self.class_hue_jitter is not None and not (
                0 <= self.class_hue_jitter <= 0.5):
            fail('class_hue_jitter', 'expected None or a value in [0, 0.5]')
        if not is_int(self.jpeg_quality) or not 1 <= self.jpeg_quality <= 100:
            fail('jpeg_quality', 'expected an integer in [1, 100]')


# --------------------------------------------------------------------------
# Shapes. Each is a membership test on object coordinates (u, v): the pixel
# offset from the object centre, rotated into the object's frame and
# divided by its radius. Every shape lies inside the unit disc (up to 5%).
# --------------------------------------------------------------------------


def _polygon_test(vertices: Sequence[Tuple[float, float]]) -> Callable:
    """Membership test of a polygon that is star-shaped about the origin.

    Args:
        vertices (Sequence[tuple[float, float]]): K polygon corners (u, v)
            in any order (they are sorted by angle about the origin).

    Returns:
        Callable: ``fn(u, v) -> bool array``, u and v arrays of one shape.
    """
    verts = np.asarray(vertices, dtype=np.float64)
    angles = np.arctan2(verts[:, 1], verts[:, 0])
    order = np.argsort(angles)
    verts, angles = verts[order], angles[order]
    edge = np.roll(verts, -1, axis=0) - verts

    def inside(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        k = (np.searchsorted(angles, np.arctan2(v, u), side='right') -
             1) % len(verts)
        a, e = verts[k], edge[k]
        cross = e[..., 0] * (v - a[..., 1]) - e[..., 1] * (u - a[..., 0])
        return cross >= 0

    return inside


def _regular(num: int, radius: float, start_deg: float = 90.0) -> list:
    angles = np.deg2rad(start_deg + 360.0 * np.arange(num) / num)
    return list(zip(radius * np.cos(angles), radius * np.sin(angles)))


def _star_vertices(points: int = 5, outer=1.0, inner=0.45) -> list:
    verts = []
    for k in range(2 * points):
        radius = outer if k % 2 == 0 else inner
        angle = np.deg2rad(90.0 + 180.0 * k / points)
        verts.append((radius * np.cos(angle), radius * np.sin(angle)))
    return verts


def _cross_vertices(half_width=0.3, length=0.95) -> list:
    a, b = half_width, length
    return [(b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a),
            (-b, -a), (-a, -a), (-a, -b), (a, -b), (a, -a)]


def _disc(u, v):
    return u * u + v * v <= 0.9**2


def _ring(u, v):
    r2 = u * u + v * v
    return (r2 <= 0.95**2) & (r2 >= 0.5**2)


def _crescent(u, v):
    return (u * u + v * v <= 0.95**2) & ((u - 0.4)**2 + v * v >= 0.72**2)


# Membership tests in the order of SYNTHVIS_CLASSES.
SHAPE_TESTS: Dict[str, Callable] = {
    'disc': _disc,
    'square': _polygon_test([(0.7, 0.7), (-0.7, 0.7), (-0.7, -0.7),
                             (0.7, -0.7)]),
    'triangle': _polygon_test(_regular(3, 1.05)),
    'ring': _ring,
    'cross': _polygon_test(_cross_vertices()),
    'star': _polygon_test(_star_vertices()),
    'hexagon': _polygon_test(_regular(6, 0.95, start_deg=0.0)),
    'crescent': _crescent,
}
assert tuple(SHAPE_TESTS) == tuple(SYNTHVIS_CLASSES)

# --------------------------------------------------------------------------
# Class layout of a split: which classes each video holds.
# --------------------------------------------------------------------------


def target_class_counts(shares: Sequence[float], total: int) -> np.ndarray:
    """Instance count of each class that realises ``shares`` over ``total``.

    Largest-remainder rounding; when ``total`` is at least the number of
    classes, every class with a positive share gets at least one instance
    (taken from the currently largest class).

    Args:
        shares (Sequence[float]): K class shares (normalised here).
        total (int): Number of instances to split.

    Returns:
        np.ndarray: (K,) int64 counts summing to ``total``.
    """
    shares = np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    raw = shares * total
    counts = np.floor(raw).astype(np.int64)
    rest = int(total - counts.sum())
    # stable: ties go to the lower class index
    order = np.argsort(-(raw - counts), kind='stable')
    counts[order[:rest]] += 1
    if total >= len(shares):
        for k in np.flatnonzero((counts == 0) & (shares > 0)):
            counts[np.argmax(counts)] -= 1
            counts[k] += 1
    return counts


def sample_class_layout(num_videos: int, cfg: SynthVISConfig,
                        rng: np.random.Generator) -> List[List[tuple]]:
    """Draw the classes of the instances of every video of a split.

    The numbers of instances per video are drawn first; the class counts of
    the split then follow :func:`target_class_counts`, and the instances of
    that pool are dealt to the videos: a video may first take a group of
    look-alikes (one class, drawn in proportion to what is left of the pool
    among classes with enough instances left), then fills its remaining
    slots one draw at a time. The realised counts equal the target counts.

    Args:
        num_videos (int): Videos in the split.
        cfg (SynthVISConfig): Parameters.
        rng (np.random.Generator): Random stream of the split.

    Returns:
        list[list[tuple[int, int]]]: Per video, one ``(label, group)`` per
        instance: ``label`` 0-based in ``SYNTHVIS_CLASSES``, ``group`` 0
        for the look-alike group and -1 otherwise.
    """
    lo, hi = cfg.instances_per_video
    sizes = rng.integers(lo, hi + 1, size=num_videos)
    pool = target_class_counts(cfg.class_shares, int(sizes.sum()))
    num_classes = len(pool)
    layout = []
    for size in sizes:
        items = []
        if size >= 2 and rng.random() < cfg.lookalike_prob:
            g_lo, g_hi = cfg.lookalike_group_size
            group = int(rng.integers(g_lo, max(g_lo, min(g_hi, size)) + 1))
            group = min(group, int(size))
            weights = np.where(pool >= group, pool, 0).astype(np.float64)
            if weights.sum() > 0:
                label = int(rng.choice(num_classes, p=weights / weights.sum()))
                pool[label] -= group
                items += [(label, 0)] * group
        while len(items) < size:
            label = int(rng.choice(num_classes, p=pool / pool.sum()))
            pool[label] -= 1
            items.append((label, -1))
        layout.append(items)
    assert pool.sum() == 0
    return layout


# --------------------------------------------------------------------------
# One video: objects, motion, appearance, rendering.
# --------------------------------------------------------------------------


@dataclass
class _Object:
    """State of one object over all the steps of a video (see module doc).

    Attributes:
        label (int): 0-based class.
        path (np.ndarray): (S, 2) centre (x, y) in px per step.
        radius (np.ndarray): (S,) radius in px per step.
        angle (np.ndarray): (S,) rotation in radians per step.
        color (np.ndarray): (S, 3) RGB in [0, 1] per step.
        stripe (tuple): (angle rad, frequency per unit radius, phase).
        mark (tuple): (u, v) centre of the identity mark, object coords.
        mark_light (bool): Whether the mark is lighter than the object.
    """
    label: int
    path: np.ndarray
    radius: np.ndarray
    angle: np.ndarray
    color: np.ndarray
    stripe: tuple
    mark: tuple
    mark_light: bool


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(
        colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)),
                            float(np.clip(v, 0, 1))))


def _make_background(rng: np.random.Generator, height: int, width: int,
                     cfg: SynthVISConfig) -> np.ndarray:
    """A textured background a little larger than the frame.

    Args:
        rng (np.random.Generator): Random stream of the video.
        height (int): Texture height (frame height plus pan margins).
        width (int): Texture width.
        cfg (SynthVISConfig): Parameters.

    Returns:
        np.ndarray: (height, width, 3) float32 RGB in [0, 1].
    """
    base = _hsv(rng.random(), rng.uniform(0.1, 0.35), rng.uniform(0.3, 0.65))
    low = rng.normal(0, 0.1, size=(4, 5, 3)).astype(np.float32)
    mid = rng.normal(
        0, 0.05,
        size=(max(2, height // 8), max(2, width // 8), 3)).astype(np.float32)
    texture = (
        cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC) +
        cv2.resize(mid, (width, height), interpolation=cv2.INTER_LINEAR))
    background = np.ascontiguousarray(
        base[None, None, :] + texture, dtype=np.float32)
    # faint lines and arcs: structure that is not an object
    for _ in range(int(rng.integers(3, 7))):
        color = tuple(
            float(c)
            for c in np.clip(base + rng.uniform(-0.15, 0.15, size=3), 0, 1))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(background, p1, p2, color, int(rng.integers(1, 3)))
    return np.clip(background, 0, 1)


def _pick_mark(
    rng: np.random.Generator,
    test: Callable,
    radius: float,
    avoid: Sequence[Tuple[float, float]] = ()
) -> Tuple[float, float]:
    """A mark centre (u, v) with the mark (mostly) inside the shape.

    Rejection sampling: a candidate is taken when its centre and at least 6
    of 8 points of its rim are inside the shape (the mark is only painted
    inside the shape) and it lies at least ``2.5 * radius`` from
    every point of ``avoid``; after 300 candidates the one that came closest
    is taken.

    Args:
        rng (np.random.Generator): Random stream.
        test (Callable): Shape membership test.
        radius (float): Mark radius in object coordinates.
        avoid (Sequence[tuple[float, float]]): Marks of look-alikes to keep
            away from.

    Returns:
        tuple[float, float]: The mark centre.
    """
    ring = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    others = np.asarray(avoid, dtype=np.float64).reshape(-1, 2)
    best, best_score = (0.0, 0.0), -np.inf
    for _ in range(300):
        theta, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 0.85)
        cu, cv = dist * np.cos(theta), dist * np.sin(theta)
        u = np.concatenate([[cu], cu + radius * np.cos(ring)])
        v = np.concatenate([[cv], cv + radius * np.sin(ring)])
        # centre inside, at most 2 of the 8 rim points outside
        score = min(float(test(u, v).sum()) - len(u) + 2, 0.0)
        score -= 0 if test(u[:1], v[:1])[0] else 10
        if len(others):
            gap = np.hypot(others[:, 0] - cu, others[:, 1] - cv).min()
            score += min(gap - 2.5 * radius, 0.0) * 10
        if score >= 0:
            return float(cu), float(cv)
        if score > best_score:
            best, best_score = (float(cu), float(cv)), score
    return best


def _bounce_path(start: np.ndarray, heading: float, speed: float, turn: float,
                 turn_noise: np.ndarray, box: np.ndarray,
                 steps: int) -> np.ndarray:
    """Integrate a moving point that bounces inside a box.

    Args:
        start (np.ndarray): (2,) start position (x, y).
        heading (float): Start heading in radians.
        speed (float): Px per step.
        turn (float): Steady heading change per step (radians).
        turn_noise (np.ndarray): (steps,) extra heading change per step.
        box (np.ndarray): (2, 2) ``[[x_lo, y_lo], [x_hi, y_hi]]``.
        steps (int): Positions to return.

    Returns:
        np.ndarray: (steps, 2) positions; the first one is ``start``.
    """
    path = np.empty((steps, 2))
    pos = np.clip(np.asarray(start, dtype=np.float64), box[0], box[1])
    for t in range(steps):
        path[t] = pos
        heading += turn + turn_noise[t]
        pos = pos + speed * np.array([np.cos(heading), np.sin(heading)])
        for axis in range(2):
            if pos[axis] < box[0, axis] or pos[axis] > box[1, axis]:
                edge = box[0, axis] if pos[axis] < box[0, axis] else box[1,
                                                                         axis]
                pos[axis] = np.clip(2 * edge - pos[axis], box[0, axis],
                                    box[1, axis])
                heading = (np.pi - heading) if axis == 0 else -heading
    return path


class _Motion:
    """Random motion parameters of one object and its bouncing box."""

    def __init__(self, rng: np.random.Generator, cfg: SynthVISConfig,
                 max_radius: float, steps: int):
        height, width = cfg.frame_size
        self.exits = bool(rng.random() < cfg.exit_prob)
        margin = 2.5 * max_radius if self.exits else -0.3 * max_radius
        self.box = np.array([[-margin, -margin],
                             [width + margin, height + margin]])
        # a box thinner than the object: keep its centre in the middle
        for axis in range(2):
            if self.box[0, axis] > self.box[1, axis]:
                mid = (self.box[0, axis] + self.box[1, axis]) / 2
                self.box[:, axis] = mid
        self.speed = rng.uniform(*cfg.speed_range)
        self.turn = np.deg2rad(rng.uniform(-cfg.turn_rate, cfg.turn_rate))
        self.turn_noise = rng.normal(0, np.deg2rad(2.0), size=steps)
        self.steps = steps

    def forward(self, start: np.ndarray, heading: float) -> np.ndarray:
        """(S, 2) path from ``start`` at step 0."""
        return _bounce_path(start, heading, self.speed, self.turn,
                            self.turn_noise, self.box, self.steps)

    def through(self, point: np.ndarray, heading: float,
                step: int) -> np.ndarray:
        """(S, 2) path that passes ``point`` at ``step`` with ``heading``."""
        after = _bounce_path(point, heading, self.speed, self.turn,
                             self.turn_noise[step:], self.box,
                             self.steps - step)
        before = _bounce_path(point, heading + np.pi, self.speed, -self.turn,
                              -self.turn_noise[:step + 1][::-1], self.box,
                              step + 1)
        return np.concatenate([before[::-1][:-1], after])


def _object_color(rng: np.random.Generator, background_mean: np.ndarray,
                  cfg: SynthVISConfig,
                  label: int) -> Tuple[float, float, float]:
    """An HSV colour at least ``min_object_contrast`` from the background.

    Args:
        rng (np.random.Generator): Random stream of the video.
        background_mean (np.ndarray): (3,) mean background RGB in [0, 1].
        cfg (SynthVISConfig): Parameters.
        label (int): 0-based class: the hue lies within
            ``cfg.class_hue_jitter`` of the class hue (any hue when None).

    Returns:
        tuple[float, float, float]: Hue, saturation, value in [0, 1].
    """
    best, best_dist = None, -1.0
    for _ in range(20):
        if cfg.class_hue_jitter is None:
            hue = rng.random()
        else:
            hue = (label / len(SYNTHVIS_CLASSES) + rng.uniform(
                -cfg.class_hue_jitter, cfg.class_hue_jitter)) % 1.0
        hsv = (hue, rng.uniform(0.45, 0.9), rng.uniform(0.55, 0.95))
        dist = float(np.linalg.norm(_hsv(*hsv) - background_mean))
        if dist >= cfg.min_object_contrast:
            return hsv
        if dist > best_dist:
            best, best_dist = hsv, dist
    return best


def _make_objects(items: List[tuple], cfg: SynthVISConfig, steps: int,
                  rng: np.random.Generator,
                  background_mean: np.ndarray) -> List[_Object]:
    """Sample the size, colour, identity cue and motion of every object.

    Args:
        items (list[tuple[int, int]]): ``(label, group)`` per object, as
            from :func:`sample_class_layout`.
        cfg (SynthVISConfig): Parameters.
        steps (int): Simulation steps S of the video.
        rng (np.random.Generator): Random stream of the video.
        background_mean (np.ndarray): (3,) mean background RGB in [0, 1].

    Returns:
        list[_Object]: The objects, in the order of ``items``.
    """
    height, width = cfg.frame_size
    t = np.arange(steps, dtype=np.float64)
    group_members = [i for i, (_, g) in enumerate(items) if g == 0]
    group_label = items[group_members[0]][0] if group_members else 0
    hue, sat, val = _object_color(rng, background_mean, cfg, group_label)
    group_look = dict(
        hue=hue,
        sat=sat,
        val=val,
        radius=rng.uniform(*cfg.radius_range),
        stripe=rng.uniform(0, np.pi))
    group_marks = []
    objects, motions = [], []
    for index, (label, group) in enumerate(items):
        name = SYNTHVIS_CLASSES[label]
        if group == 0:
            rank = group_members.index(index)
            jitter = cfg.lookalike_color_jitter
            hue = group_look['hue'] + rng.uniform(-jitter, jitter)
            sat = group_look['sat'] + rng.uniform(-2 * jitter, 2 * jitter)
            val = group_look['val'] + rng.uniform(-2 * jitter, 2 * jitter)
            radius0 = group_look['radius'] * rng.uniform(0.9, 1.1)
            # spread the cues of look-alikes so that each stays unique
            spread = rank / len(group_members)
            stripe_angle = group_look['stripe'] + np.pi * spread
        else:
            hue, sat, val = _object_color(rng, background_mean, cfg, label)
            radius0 = rng.uniform(*cfg.radius_range)
            stripe_angle = rng.uniform(0, np.pi)
        frequency = rng.uniform(1.2, 2.2)
        stripe = (stripe_angle, frequency, rng.uniform(0, 2 * np.pi))
        mark = _pick_mark(rng, SHAPE_TESTS[name], cfg.mark_radius,
                          group_marks if group == 0 else ())
        if group == 0:
            group_marks.append(mark)
        # drift: scale, rotation, hue, brightness
        period = rng.uniform(*cfg.scale_period)
        scale = np.exp(cfg.scale_drift *
                       np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3)))
        radius = radius0 * scale
        angle = rng.uniform(0, 2 * np.pi) + np.deg2rad(
            rng.uniform(-cfg.rotation_speed, cfg.rotation_speed)) * t
        hue_t = hue + rng.uniform(-cfg.hue_drift, cfg.hue_drift) * t / 360.0
        val_t = val * (
            1 + cfg.brightness_drift *
            np.sin(2 * np.pi * t / rng.uniform(20, 60) + rng.uniform(0, 6.3)))
        color = np.stack([_hsv(h, sat, v) for h, v in zip(hue_t, val_t)])
        objects.append(
            _Object(
                label=label,
                path=np.zeros((steps, 2)),
                radius=radius,
                angle=angle,
                color=color,
                stripe=stripe,
                mark=mark,
                mark_light=bool(val < 0.72)))
        motions.append(_Motion(rng, cfg, float(radius.max()), steps))

    # motion: free starts, then maybe one steered crossing
    frame_box = np.array([[0.0, 0.0], [width, height]])
    for obj, motion in zip(objects, motions):
        inner = np.clip(motion.box, frame_box[0], frame_box[1])
        start = rng.uniform(inner[0], inner[1])
        heading = rng.uniform(0, 2 * np.pi)
        if motion.exits and rng.random() < 0.5:
            # start just outside one side, heading into the frame, close
            # enough to enter within the first third of the video
            side = int(rng.integers(4))
            axis, far = side % 2, side >= 2
            reach = float(obj.radius.max())
            offset = min(
                reach * rng.uniform(0.5, 1.0) +
                motion.speed * rng.uniform(0, 0.3 * (steps - 1)),
                -motion.box[0, axis])
            start[axis] = (
                frame_box[1, axis] + offset if far else frame_box[0, axis] -
                offset)
            # sides: 0 left, 1 top, 2 right, 3 bottom (image y down)
            inward = (0.0, 0.5 * np.pi, np.pi, -0.5 * np.pi)[side]
            heading = inward + rng.uniform(-0.6, 0.6)
        obj.path = motion.forward(start, heading)
        in_frame = np.all(
            (obj.path > frame_box[0]) & (obj.path < frame_box[1]), axis=1)
        if not in_frame.any():
            # it never came in: start it inside the frame instead
            obj.path = motion.forward(rng.uniform(inner[0], inner[1]), heading)
    if len(objects) >= 2 and rng.random() < cfg.crossing_prob:
        pair = (
            group_members[:2] if len(group_members) >= 2 else list(
                rng.choice(len(objects), size=2, replace=False)))
        first, second = int(pair[0]), int(pair[1])
        path = objects[first].path
        lo, hi = int(0.25 * (steps - 1)), int(np.ceil(0.75 * (steps - 1)))
        candidates = [
            s for s in range(lo, hi + 1)
            if np.all((path[s] > frame_box[0]) & (path[s] < frame_box[1]))
        ]
        if candidates:
            step = int(rng.choice(candidates))
            point = path[step] + rng.normal(
                0, 0.15 * objects[first].radius[step], size=2)
            if step > 0:
                own = path[step] - path[step - 1]
            else:
                own = path[1] - path[0] if steps > 1 else np.ones(2)
            heading = np.arctan2(
                own[1],
                own[0]) + rng.choice([-1, 1]) * rng.uniform(np.pi / 3, np.pi)
            objects[second].path = motions[second].through(
                point, heading, step)
    return objects


def _render_object(obj: _Object, step: int, cfg: SynthVISConfig,
                   canvas: np.ndarray) -> np.ndarray:
    """Paint one object at one step onto ``canvas`` and return its mask.

    Args:
        obj (_Object): The object.
        step (int): Simulation step.
        cfg (SynthVISConfig): Parameters.
        canvas (np.ndarray): (H, W, 3) float32 RGB, painted in place.

    Returns:
        np.ndarray: (H, W) bool full (unoccluded) mask, clipped to the frame.
    """
    height, width = canvas.shape[:2]
    mask = np.zeros((height, width), dtype=bool)
    cx, cy = obj.path[step]
    radius = float(obj.radius[step])
    reach = 1.06 * radius + 1.0
    x0, x1 = max(int(np.floor(cx - reach)),
                 0), min(int(np.ceil(cx + reach)), width)
    y0, y1 = max(int(np.floor(cy - reach)),
                 0), min(int(np.ceil(cy + reach)), height)
    if x0 >= x1 or y0 >= y1:
        return mask
    dx = (np.arange(x0, x1) + 0.5 - cx)[None, :]
    dy = (np.arange(y0, y1) + 0.5 - cy)[:, None]
    cos, sin = np.cos(obj.angle[step]), np.sin(obj.angle[step])
    u = (dx * cos + dy * sin) / radius
    v = (-dx * sin + dy * cos) / radius
    inside = SHAPE_TESTS[SYNTHVIS_CLASSES[obj.label]](u, v)
    if not inside.any():
        return mask
    stripe_angle, frequency, phase = obj.stripe
    stripes = np.sin(2 * np.pi * frequency *
                     (u * np.cos(stripe_angle) + v * np.sin(stripe_angle)) +
                     phase) > 0
    color = obj.color[step]
    patch = color[None,
                  None, :] * (1.0 - cfg.cue_contrast * stripes[..., None])
    if cfg.mark_radius > 0:
        in_mark = ((u - obj.mark[0])**2 +
                   (v - obj.mark[1])**2) <= cfg.mark_radius**2
        mark_color = (0.35 + 0.65 * color) if obj.mark_light else 0.3 * color
        patch[in_mark] = mark_color
    window = canvas[y0:y1, x0:x1]
    window[inside] = patch[inside]
    mask[y0:y1, x0:x1] = inside
    return mask


def render_video(items: List[tuple],
                 length: int,
                 frame_interval: int,
                 cfg: SynthVISConfig,
                 rng: np.random.Generator,
                 keep_full_masks: bool = True) -> dict:
    """Simulate and render one video.

    Objects are painted from the bottom to the top of a random z-order;
    the visible mask of an object is its full mask minus the union of the
    full masks of the objects above it.

    Args:
        items (list[tuple[int, int]]): ``(label, group)`` per object, as
            from :func:`sample_class_layout`.
        length (int): Frames T.
        frame_interval (int): Simulation steps between two frames.
        cfg (SynthVISConfig): Parameters.
        rng (np.random.Generator): Random stream of the video.
        keep_full_masks (bool): Whether to return the full masks.

    Returns:
        dict: ``frames`` (T, H, W, 3) uint8 RGB; ``visible`` (N, T, H, W)
        bool visible masks; ``full`` (N, T, H, W) bool full masks clipped to
        the frame (only with ``keep_full_masks``); ``labels`` (N,) int
        0-based; ``z_order`` (N,) int, the painting rank (higher is above);
        ``steps`` (T,) int, the simulation step of each frame.
    """
    height, width = cfg.frame_size
    steps = (length - 1) * frame_interval + 1
    pan = int(np.ceil(cfg.background_pan_speed * steps)) + 1
    background = _make_background(rng, height + 2 * pan, width + 2 * pan, cfg)
    pan_velocity = rng.uniform(
        -cfg.background_pan_speed, cfg.background_pan_speed, size=2)
    pan_start = pan - pan_velocity * (steps - 1) / 2
    light_period = rng.uniform(40, 120)
    light_phase = rng.uniform(0, 2 * np.pi)
    objects = _make_objects(items, cfg, steps, rng,
                            background.reshape(-1, 3).mean(axis=0))
    num = len(objects)
    z_order = rng.permutation(num)
    bottom_to_top = np.argsort(z_order)
    frame_steps = np.arange(length) * frame_interval
    frames = np.empty((length, height, width, 3), dtype=np.uint8)
    full = np.zeros((num, length, height, width), dtype=bool)
    visible = np.zeros((num, length, height, width), dtype=bool)
    for t, step in enumerate(frame_steps):
        ox, oy = np.round(pan_start + pan_velocity * step).astype(int)
        canvas = background[oy:oy + height, ox:ox + width].copy()
        for index in bottom_to_top:
            full[index, t] = _render_object(objects[index], step, cfg, canvas)
        covered = np.zeros((height, width), dtype=bool)
        for index in bottom_to_top[::-1]:
            visible[index, t] = full[index, t] & ~covered
            covered |= full[index, t]
        gain = 1.0 + cfg.lighting_drift * np.sin(2 * np.pi * step /
                                                 light_period + light_phase)
        image = canvas * (255.0 * gain) + rng.normal(
            0, cfg.noise_std, size=canvas.shape)
        frames[t] = np.clip(np.round(image), 0, 255).astype(np.uint8)
    result = dict(
        frames=frames,
        visible=visible,
        labels=np.array([obj.label for obj in objects], dtype=np.int64),
        z_order=z_order,
        steps=frame_steps)
    if keep_full_masks:
        result['full'] = full
    return result


# --------------------------------------------------------------------------
# Annotations, statistics and files.
# --------------------------------------------------------------------------


def _encode_mask(mask: np.ndarray) -> dict:
    """(H, W) bool mask -> compressed RLE dict with a str ``counts``."""
    from pycocotools import mask as mask_util
    rle = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(
        size=[int(s) for s in rle['size']],
        counts=rle['counts'].decode('ascii'))


def _tight_box(mask: np.ndarray) -> List[float]:
    """(H, W) bool mask -> tight ``[x, y, w, h]`` in pixels."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    x0, y0 = int(cols[0]), int(rows[0])
    return [
        float(x0),
        float(y0),
        float(cols[-1] + 1 - x0),
        float(rows[-1] + 1 - y0)
    ]


class _SplitStats:
    """Accumulates the statistics of one split."""

    def __init__(self):
        self.videos = 0
        self.frames = 0
        self.instances = 0
        self.dropped = 0
        self.instance_frames = 0
        self.class_counts = np.zeros(len(SYNTHVIS_CLASSES), dtype=np.int64)
        self.max_per_frame = 0
        self.frames_with_lookalikes = 0
        self.occluded = 0
        self.enter_leave = 0
        self.displacements = []

    def add_video(self, video: dict, kept: List[int],
                  annotated: np.ndarray) -> None:
        """Add one rendered video (``annotated``: (N, T) bool)."""
        labels, full, visible = video['labels'], video['full'], video[
            'visible']
        num, length = annotated.shape
        self.videos += 1
        self.frames += length
        self.instances += len(kept)
        self.dropped += num - len(kept)
        self.instance_frames += int(annotated.sum())
        for i in kept:
            self.class_counts[labels[i]] += 1
            if not annotated[i].all():
                self.enter_leave += 1
        for t in range(length):
            present = np.flatnonzero(annotated[:, t])
            self.max_per_frame = max(self.max_per_frame, len(present))
            if len(present) != len(set(labels[present].tolist())):
                self.frames_with_lookalikes += 1
        full_area = full.sum(axis=(2, 3))
        vis_area = visible.sum(axis=(2, 3))
        self.occluded += int(
            ((full_area > 0) & annotated & (vis_area < 0.5 * full_area)).sum())
        ys, xs = np.arange(full.shape[2]), np.arange(full.shape[3])
        for i in kept:
            cy = (visible[i].sum(axis=2) * ys).sum(axis=1) / np.maximum(
                vis_area[i], 1)
            cx = (visible[i].sum(axis=1) * xs).sum(axis=1) / np.maximum(
                vis_area[i], 1)
            both = annotated[i, 1:] & annotated[i, :-1]
            step = np.hypot(np.diff(cx), np.diff(cy))[both]
            self.displacements.extend(step.tolist())

    def as_dict(self) -> dict:
        total = max(int(self.class_counts.sum()), 1)
        return dict(
            videos=self.videos,
            frames=self.frames,
            instances=self.instances,
            dropped_instances=self.dropped,
            instance_frames=self.instance_frames,
            mean_instances_per_frame=round(
                self.instance_frames / max(self.frames, 1), 3),
            max_instances_per_frame=self.max_per_frame,
            frames_with_lookalikes=self.frames_with_lookalikes,
            occluded_instance_frames=self.occluded,
            instances_entering_or_leaving=self.enter_leave,
            mean_displacement_px=round(
                float(np.mean(self.displacements))
                if self.displacements else 0.0, 3),
            class_counts={
                name: int(c)
                for name, c in zip(SYNTHVIS_CLASSES, self.class_counts)
            },
            class_shares={
                name: round(int(c) / total, 4)
                for name, c in zip(SYNTHVIS_CLASSES, self.class_counts)
            })


def _video_rng(seed: int, split: str, index: int) -> np.random.Generator:
    stream = _SPLIT_INFO[split][2]
    return np.random.default_rng(np.random.SeedSequence([seed, stream, index]))


def _clean_image_root(img_root: str, prefix: str) -> None:
    """Remove the video folders of an earlier run (names of this split)."""
    if not osp.isdir(img_root):
        return
    for name in os.listdir(img_root):
        path = osp.join(img_root, name)
        if (osp.isdir(path) and _VIDEO_DIR_PATTERN.match(name)
                and name.startswith(prefix + '_')):
            shutil.rmtree(path)


def _generate_split(split: str, out_dir: str, seed: int, cfg: SynthVISConfig,
                    first_video_id: int, first_ann_id: int,
                    progress_bar) -> Tuple[dict, dict]:
    """Render and write the frames of one split; build its JSON dict.

    Returns:
        tuple[dict, dict]: The YouTube-VIS dict and the statistics.
    """
    folder, prefix, stream = _SPLIT_INFO[split]
    num_videos = getattr(cfg, f'num_{split}_videos')
    length_range = getattr(cfg, f'{split}_length')
    interval = (
        cfg.long_frame_interval
        if split == 'val_long' else cfg.short_frame_interval)
    img_root = osp.join(out_dir, folder, 'JPEGImages')
    _clean_image_root(img_root, prefix)
    split_rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
    layout = sample_class_layout(num_videos, cfg, split_rng)
    lengths = split_rng.integers(
        length_range[0], length_range[1] + 1, size=num_videos)
    height, width = cfg.frame_size
    stats = _SplitStats()
    videos, annotations = [], []
    ann_id = first_ann_id
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(cfg.jpeg_quality)]
    for index in range(num_videos):
        video_id = first_video_id + index
        length = int(lengths[index])
        name = f'{prefix}_{index + 1:04d}'
        video = render_video(layout[index], length, interval, cfg,
                             _video_rng(seed, split, index))
        os.makedirs(osp.join(img_root, name), exist_ok=True)
        file_names = [f'{name}/{int(s):05d}.jpg' for s in video['steps']]
        for frame, file_name in zip(video['frames'], file_names):
            ok, data = cv2.imencode('.jpg', frame[..., ::-1], params)
            if not ok:
                raise RuntimeError(f'JPEG encoding failed for {file_name}')
            with open(osp.join(img_root, file_name), 'wb') as f:
                f.write(data.tobytes())
        videos.append(
            dict(
                id=video_id,
                width=width,
                height=height,
                length=length,
                file_names=file_names))
        areas = video['visible'].sum(axis=(2, 3))
        annotated = areas >= max(cfg.min_visible_pixels, 1)
        kept = [i for i in range(len(annotated)) if annotated[i].any()]
        for i in kept:
            segmentations, bboxes, frame_areas = [], [], []
            for t in range(length):
                if annotated[i, t]:
                    mask = video['visible'][i, t]
                    segmentations.append(_encode_mask(mask))
                    bboxes.append(_tight_box(mask))
                    frame_areas.append(int(areas[i, t]))
                else:
                    segmentations.append(None)
                    bboxes.append(None)
                    frame_areas.append(None)
            annotations.append(
                dict(
                    id=ann_id,
                    video_id=video_id,
                    category_id=int(video['labels'][i]) + 1,
                    iscrowd=0,
                    segmentations=segmentations,
                    bboxes=bboxes,
                    areas=frame_areas,
                    height=height,
                    width=width,
                    length=length))
            ann_id += 1
        stats.add_video(video, kept, annotated)
        if progress_bar is not None:
            progress_bar.update()
    return _ytvis_dict(videos, annotations, seed, split), stats.as_dict()


def _ytvis_dict(videos: list, annotations: list, seed: int,
                split: str) -> dict:
    return dict(
        info=dict(
            description=f'SynthVIS {split} (seed {seed})',
            version='1.0',
            contributor='mmookd'),
        licenses=[],
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(SYNTHVIS_CLASSES)
        ],
        videos=sorted(videos, key=lambda v: v['id']),
        annotations=sorted(annotations, key=lambda a: a['id']))


def _dump_json(data: dict, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, sort_keys=True, separators=(',', ':'))


def generate_synthvis(out_dir: str,
                      seed: int = 0,
                      cfg: Optional[SynthVISConfig] = None,
                      progress: bool = True) -> dict:
    """Generate a SynthVIS set (frames and YouTube-VIS JSON files).

    Frames and annotation files of an earlier run in ``out_dir`` are
    overwritten (video folders of the generator's own names are removed
    first; nothing else is touched).

    Args:
        out_dir (str): Output folder (created if missing).
        seed (int): Seed of every random stream. Defaults to 0.
        cfg (SynthVISConfig, optional): Parameters; the default set when
            None.
        progress (bool): Whether to show a progress bar over the videos.
            Defaults to True.

    Returns:
        dict: ``out_dir``; ``seed``; ``config`` (the parameters as a dict);
        ``ann_files`` and ``img_roots`` (paths per split ``train``,
        ``val_short``, ``val_long``, ``val``); ``stats`` per split (videos,
        frames, instances, per-class counts and shares, and measures of
        the difficulties, see ``docs/synthvis.md``); ``class_shares``
        (``target``: the normalised configured shares, ``train``: the
        realised ones).
    """
    cfg = copy.deepcopy(cfg) if cfg is not None else SynthVISConfig()
    cfg.validate()
    seed = int(seed)
    ann_dir = osp.join(out_dir, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    total = (
        cfg.num_train_videos + cfg.num_val_short_videos +
        cfg.num_val_long_videos)
    progress_bar = None
    if progress and total > 0:
        from mmengine.utils import ProgressBar
        progress_bar = ProgressBar(total)
    data, stats = {}, {}
    for split in SPLITS:
        first_video, first_ann = 1, 1
        if split == 'val_long':
            # ids continue after the short videos: unique across val
            short = data['val_short']
            first_video = len(short['videos']) + 1
            first_ann = len(short['annotations']) + 1
        data[split], stats[split] = _generate_split(split, out_dir, seed, cfg,
                                                    first_video, first_ann,
                                                    progress_bar)
    if progress_bar is not None:
        progress_bar.file.write('\n')
    data['val'] = _ytvis_dict(
        data['val_short']['videos'] + data['val_long']['videos'],
        data['val_short']['annotations'] + data['val_long']['annotations'],
        seed, 'val')
    ann_files, img_roots = {}, {}
    for split in ('train', 'val_short', 'val_long', 'val'):
        ann_files[split] = osp.join(ann_dir, f'synthvis_{split}.json')
        _dump_json(data[split], ann_files[split])
        img_roots[split] = osp.join(out_dir,
                                    'train' if split == 'train' else 'val',
                                    'JPEGImages')
    shares = np.asarray(cfg.class_shares, dtype=np.float64)
    shares = shares / shares.sum()
    return dict(
        out_dir=out_dir,
        seed=seed,
        config=dataclasses.asdict(cfg),
        ann_files=ann_files,
        img_roots=img_roots,
        stats=stats,
        class_shares=dict(
            target={
                name: round(float(s), 4)
                for name, s in zip(SYNTHVIS_CLASSES, shares)
            },
            train=stats['train']['class_shares']))


# --------------------------------------------------------------------------
# The dataset class.
# --------------------------------------------------------------------------


@DATASETS.register_module()
class SynthVISDataset(VISDataset):
    """:class:`VISDataset` with ``dataset_version='synthvis'``.

    Reads the files written by :func:`generate_synthvis`; one item of
    ``data_list`` is one video (see :mod:`mmookd.datasets.vis_dataset`).

    Args:
        ann_file (str): e.g. ``'annotations/synthvis_val.json'``.
        dataset_version (str): Defaults to ``'synthvis'``.
        **kwargs: Passed to :class:`VISDataset` (``data_root``,
            ``data_prefix=dict(img_path='val/JPEGImages')``,
            ``long_video_ids='annotations/synthvis_val_long.json'``,
            ``pipeline``, ``test_mode``, ...).
    """

    def __init__(self,
                 ann_file: str = '',
                 dataset_version: str = 'synthvis',
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file, dataset_version=dataset_version, **kwargs)
