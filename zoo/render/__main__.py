"""Child entry point: ``python -m zoo.render face|mesh|skeleton|landmarks|curves --npz in.npz --out ...``.

Run as a program it blocks ``import tensorflow`` before doing anything, so a stray import fails loudly instead of
loading TensorFlow next to the rasteriser. Exit code 1 with "error: ..." on stderr for bad input.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

_BLOCKED = ("tensorflow",)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m zoo.render", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("face", help="weights (T, 52) in an npz -> MP4 of the synthetic face")
    f.add_argument("--npz", required=True, type=Path, help="arrays: weights (T, 52), head_deg (T, 3), reference")
    f.add_argument("--out", required=True, type=Path, help="the MP4 to write")
    f.add_argument("--fps", required=True, help="frames per second (a number or a fraction like 30000/1001)")
    f.add_argument("--audio", type=Path, default=None, help="audio file to mux in as AAC")
    f.add_argument("--identity", default="f1", help="synthetic identity: f1, f2, m1 or m2")
    f.add_argument("--image-size", type=int, default=256, help="panel height and width in pixels (even)")
    f.add_argument("--no-labels", action="store_true", help="no 'prediction'/'reference' labels")
    m = sub.add_parser("mesh", help="vertices (T, V, 3) and faces (F, 3) in an npz -> MP4")
    m.add_argument("--npz", required=True, type=Path, help="arrays: vertices (T, V, 3), faces (F, 3), reference")
    m.add_argument("--out", required=True, type=Path, help="the MP4 to write")
    m.add_argument("--fps", required=True, help="frames per second (a number or a fraction like 30000/1001)")
    m.add_argument("--audio", type=Path, default=None, help="audio file to mux in as AAC")
    m.add_argument("--image-size", type=int, default=256, help="panel height and width in pixels (even)")
    m.add_argument("--no-labels", action="store_true", help="no 'prediction'/'reference' labels")
    s = sub.add_parser("skeleton", help="node positions (T, N, 3) per panel in an npz -> MP4 of stick figures")
    s.add_argument("--npz", required=True, type=Path,
                   help="arrays: seq0, seq1, ... (T, N, 3) one per panel, parents (N,), sides (N,), labels (P,)")
    s.add_argument("--out", required=True, type=Path, help="the MP4 to write")
    s.add_argument("--fps", required=True, help="frames per second (a number or a fraction like 30000/1001)")
    s.add_argument("--audio", type=Path, default=None, help="audio file to mux in as AAC (cut to the video)")
    s.add_argument("--width", type=int, default=512, help="panel width in pixels (even)")
    s.add_argument("--height", type=int, default=512, help="panel height in pixels (even)")
    s.add_argument("--view", choices=("front", "side"), default="front", help="orthographic view")
    lm = sub.add_parser("landmarks", help="68-point landmarks (T, 136) in an npz -> MP4 landmark animation")
    lm.add_argument("--npz", required=True, type=Path,
                    help="arrays: landmarks (T, 136) normalised, reference (T, 136), images (T, H, W, 3) uint8")
    lm.add_argument("--out", required=True, type=Path, help="the MP4 to write")
    lm.add_argument("--fps", required=True, help="frames per second (a number or a fraction like 100/3)")
    lm.add_argument("--audio", type=Path, default=None, help="audio file to mux in as AAC (cut to the video)")
    lm.add_argument("--image-size", type=int, default=256, help="panel height and width in pixels (even, >= 64)")
    lm.add_argument("--no-labels", action="store_true", help="no 'predicted'/'ground truth'/'generated' labels")
    c = sub.add_parser("curves", help="values (T, K) and names (K,) in an npz -> PNG")
    c.add_argument("--npz", required=True, type=Path, help="arrays: values (T, K), names (K,), reference")
    c.add_argument("--out", required=True, type=Path, help="the PNG to write")
    c.add_argument("--fps", required=True, type=float)
    c.add_argument("--channels", nargs="+", default=None, help="channel names to plot")
    c.add_argument("--title", default=None)
    c.add_argument("--max-channels", type=int, default=8)
    return p


def _face(args) -> Path:
    from .face import render_from_npz

    return render_from_npz(args.npz, args.out, args.fps, audio_path=args.audio, identity=args.identity,
                           image_size=args.image_size, labels=not args.no_labels)


def _mesh(args) -> Path:
    from .mesh import render_mesh_from_npz

    return render_mesh_from_npz(args.npz, args.out, args.fps, audio_path=args.audio, image_size=args.image_size,
                                labels=not args.no_labels)


def _skeleton(args) -> Path:
    from .skeleton import render_skeleton_from_npz

    return render_skeleton_from_npz(args.npz, args.out, args.fps, audio_path=args.audio,
                                    image_size=(args.width, args.height), view=args.view)


def _landmarks(args) -> Path:
    from .landmarks import render_landmarks_from_npz

    return render_landmarks_from_npz(args.npz, args.out, args.fps, audio_path=args.audio,
                                     image_size=args.image_size, labels=not args.no_labels)


def _curves(args) -> Path:
    from .face import _read_npz
    from .plots import plot_curves

    data = _read_npz(args.npz)
    for key in ("values", "names"):
        if key not in data:
            raise ValueError(f"{args.npz}: missing array {key!r} (found: {sorted(data) or 'none'})")
    return plot_curves(data["values"], [str(n) for n in data["names"]], args.fps, args.out,
                       channels=args.channels, reference=data.get("reference"), title=args.title,
                       max_channels=args.max_channels)


def main(argv: list[str] | None = None) -> int:
    """Parse, run the command, print the written path; 1 on error (message last on stderr)."""
    args = _parser().parse_args(argv)
    try:
        out = {"face": _face, "mesh": _mesh, "skeleton": _skeleton, "landmarks": _landmarks,
               "curves": _curves}[args.command](args)
    except (ValueError, KeyError, OSError) as exc:  # bad input: DataError/AudioError are ValueErrors
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _block_imports() -> None:
    """Make ``import tensorflow`` raise ImportError in this (child) process."""
    for name in _BLOCKED:
        if name not in sys.modules:
            sys.modules[name] = None


if __name__ == "__main__":
    _block_imports()
    sys.exit(main())
