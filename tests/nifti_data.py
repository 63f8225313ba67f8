"""A tiny volumetric (NIfTI) data set, laid out as a user's: 4D BOLD runs per subject, a
brain mask, a network atlas and a parcellation in the mask's space (label images with a
BIDS-style ``index``/``name`` table), a video, a captions table and clip segments per run;
and the configuration that analyses it (``write_nifti_dataset``): complete in itself
(run it with ``--replace-workflow-config``), with the tiny CLIP of ``tests/config/tiny.yaml``
as the one model and its small settings, so that the whole workflow runs in a few minutes.

The movie is a sequence of random scenes; the validation clip is the same in every run.
The "vision" network follows the frames' mean brightness (HRF-convolved) in every subject,
so it has a repeated, stimulus-driven response; the other networks are AR(1) noise.
"""

from pathlib import Path

import nibabel as nib
import numpy as np
import yaml

from tiny import TINY

RUNS = ("run1", "run2", "run3")
SUBJECTS = ("s1", "s2", "s3")
NETWORKS = {1: "Visual", 2: "Language", 3: "Attention", 4: "Default", 5: "Other"}
MAPPING = {"vision": ["Visual"], "language": ["Language"], "attention": ["Attention"],
           "default": ["Default"]}
GRID = (8, 8, 8)
FPS = 2
SCENE_TRS = 3
# per run: rest 3, clip 30, rest 2, validation 9, rest 2 (0-based TRs, end inclusive)
CLIP, VALIDATION, N_TRS = (3, 32), (35, 43), 46
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])
AFFINE[:3, 3] = -8.0


def _save(path, data, zooms=None):
    img = nib.Nifti1Image(data, AFFINE)
    if zooms is not None:
        img.header.set_zooms(zooms)
    nib.save(img, str(path))


def _hrf(tr=1.0, length=24):
    from nilearn.glm.first_level import spm_hrf

    return spm_hrf(tr, oversampling=1, time_length=length)


def write_nifti_dataset(root, seed=0):
    """Write the data set under ``root``; return the path of its configuration."""
    from vlmbrain.stimuli.video import write_video

    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / "movie").mkdir(parents=True)
    (root / "bold").mkdir()
    # mask: the 6 x 6 x 6 interior of the grid; atlas: networks by octant pairs
    mask = np.zeros(GRID, np.uint8)
    mask[1:7, 1:7, 1:7] = 1
    i, j, k = np.indices(GRID)
    atlas = np.where(mask > 0, 1 + (i >= 4) + 2 * (j >= 4), 0).astype(np.int16)
    atlas[(mask > 0) & (k == 6)] = 5  # a label the mapping leaves out
    parcels = np.where(mask > 0, 1 + (i >= 4) + 2 * (j >= 4) + 4 * (k >= 4), 0).astype(np.int16)
    _save(root / "mask.nii.gz", mask)
    _save(root / "networks.nii.gz", atlas)
    _save(root / "parcels.nii.gz", parcels)
    (root / "networks.tsv").write_text(
        "index\tname\n" + "".join(f"{i}\t{n}\n" for i, n in NETWORKS.items())
    )
    # movie: scenes of SCENE_TRS TRs; the validation clip's scenes are the same in every run
    validation = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(3)]
    brightness = {}
    rows = ["run\tclip\tstart\tend\tvalidation"]
    for run in RUNS:
        scenes = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(N_TRS // SCENE_TRS + 1)]
        per_tr = [scenes[t // SCENE_TRS] for t in range(N_TRS)]
        for t in range(VALIDATION[0], VALIDATION[1] + 1):
            per_tr[t] = validation[(t - VALIDATION[0]) // SCENE_TRS]
        rest = np.zeros((32, 32, 3), np.uint8)
        per_tr = [f if CLIP[0] <= t <= CLIP[1] or VALIDATION[0] <= t <= VALIDATION[1] else rest
                  for t, f in enumerate(per_tr)]
        write_video(root / "movie" / f"{run}.mp4", [f for f in per_tr for _ in range(FPS)], fps=FPS)
        brightness[run] = np.array([f.mean() for f in per_tr])
        words = ["a dog on the grass", "a red car at night", "people in a kitchen", "a city street"]
        captions = ["onset\tduration\ttext"] + [
            f"{t:.1f}\t{SCENE_TRS:.1f}\t{words[(t // SCENE_TRS) % len(words)]}"
            for t in range(0, N_TRS - SCENE_TRS + 1, SCENE_TRS)
        ]
        (root / "movie" / f"{run}_captions.tsv").write_text("\n".join(captions) + "\n")
        rows += [f"{run}\tclip_{run}\t{CLIP[0]}\t{CLIP[1]}\tfalse",
                 f"{run}\tvalidation\t{VALIDATION[0]}\t{VALIDATION[1]}\ttrue"]
    (root / "movie" / "segments.tsv").write_text("\n".join(rows) + "\n")
    # BOLD: the vision network follows HRF-convolved brightness; AR(1) noise everywhere
    hrf = _hrf()
    vision = (atlas == 1)
    for sub in SUBJECTS:
        for run in RUNS:
            signal = np.convolve(brightness[run] - brightness[run].mean(), hrf)[:N_TRS]
            signal = signal / signal.std()
            noise = rng.standard_normal((*GRID, N_TRS)).astype(np.float32)
            for t in range(1, N_TRS):
                noise[..., t] += 0.3 * noise[..., t - 1]
            data = 100.0 + noise
            data[vision] += 1.5 * signal
            data[mask == 0] = 0.0
            _save(root / "bold" / f"sub-{sub}_{run}.nii.gz", data.astype(np.float32),
                  zooms=(2.0, 2.0, 2.0, 1.0))
    tiny = yaml.safe_load(TINY.read_text())
    config = {
        "results": "results",
        "data": {
            "source": "custom",
            "tr": 1.0,
            "runs": list(RUNS),
            "subjects": list(SUBJECTS),
            "bold": str(root / "bold" / "sub-{subject}_{run}.nii.gz"),
            "mask": str(root / "mask.nii.gz"),
            "video": str(root / "movie" / "{run}.mp4"),
            "captions": str(root / "movie" / "{run}_captions.tsv"),
            "segments": str(root / "movie" / "segments.tsv"),
        },
        "networks": {"template": str(root / "networks.nii.gz"), "labels": str(root / "networks.tsv"),
                     "mapping": MAPPING},
        "models": {"clip": tiny["models"]["clip"]},
        "extraction": {"device": "cpu"},
        "sdl": tiny["sdl"],
        "neurons": {"parcellation": str(root / "parcels.nii.gz"), "grayordinate": False,
                    "n_shifts": tiny["neurons"]["n_shifts"]},
        "attribution": tiny["attribution"],
    }
    path = root / "nifti.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
