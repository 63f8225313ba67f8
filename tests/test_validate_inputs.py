"""Every cheap check runs first, when the workflow starts (``validate_inputs``, the
workflow's ``onstart`` handler).

One test per bad input: each asserts that the message names the file (or config key) and
the fault, that it comes before any model is built or any BOLD data is read (the
builders, the weight loading, the BOLD data readers and the full video decoder fail the
test if called) and that nothing but the validation's log is written. Then all faults at
once, reported together, and the real workflow on real-data inputs: it stops before its
first job, naming every fault.
"""

import shutil
from fractions import Fraction
from pathlib import Path

import av
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from vlmbrain.fmri.cifti import template_brain_models, write_dtseries
from vlmbrain.io import write_tsv
from vlmbrain.models.meter import METER, save_meter_checkpoint
from vlmbrain.models.registry import build_model, model_streams
from vlmbrain.stimuli.video import write_video
from vlmbrain.validate import InputError, validate_inputs

from conftest import snakemake
from tiny import TINY_MODELS

RUNS = ["run1", "run2"]
SUBJECTS = ["s1", "s2"]
N_TRS, TR, FPS = 20, 1.0, 2
COUPLINGS = [
    {"model": "clip", "stream": "image", "layer": 1, "network": "vision", "sign": 1},
    {"model": "meter", "stream": "fusion_text", "layer": 0, "network": "language", "sign": -1,
     "like": "image"},
]
NETWORKS = ["vision", "language"]


def _frames(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def _faststart_mp4(path, n_frames, fps=FPS, size=32):
    """An mp4 with its header before the frames: cut short, it still promises them all."""
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=Fraction(fps, 1))
        stream.pix_fmt, stream.height, stream.width = "yuv420p", size, size
        stream.codec_context.options = {"qscale": "2", "g": "4"}
        for frame in _frames(n_frames, size):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _bold(path, n_trs=N_TRS, tr=TR, bm=None, seed=0):
    data = np.random.default_rng(seed).standard_normal((n_trs, len(bm or template_brain_models())))
    write_dtseries(path, data.astype(np.float32), tr, bm_axis=bm)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Real-data inputs that pass: 2 runs of 20 s video at 2 fps (20 TRs of 1 s), their
    captions and segments, 2 subjects' CIFTI runs of 20 TRs, a METER checkpoint."""
    root = tmp_path_factory.mktemp("inputs")
    for run in RUNS:
        write_video(root / f"{run}.mp4", _frames(N_TRS * FPS), FPS)
        write_tsv(root / f"{run}_captions.tsv", pd.DataFrame(
            {"onset": [0.0, 8.0], "duration": [8.0, 10.0], "text": ["a dog runs.", "a red car."]}))
        for subject in SUBJECTS:
            _bold(root / f"sub-{subject}_{run}.dtseries.nii")
    write_tsv(root / "segments.tsv", pd.DataFrame(
        {"run": RUNS * 2, "clip": ["a", "a", "val", "val"], "start": [2, 2, 14, 14],
         "end": [11, 11, 17, 17], "validation": [False, False, True, True]}))
    torch.manual_seed(0)
    save_meter_checkpoint(METER(image_size=32, **TINY_MODELS["meter"]["overrides"]),
                          root / "meter.ckpt")
    return root


def _inputs(root, **change):
    """The validate_inputs arguments for the inputs under ``root`` (all valid), with
    ``change`` applied."""
    models = {k: dict(v) for k, v in TINY_MODELS.items()}
    models["meter"]["checkpoint"] = str(root / "meter.ckpt")
    kwargs = dict(
        frames=[str(root / f"{run}.mp4") for run in RUNS],
        captions=[str(root / f"{run}_captions.tsv") for run in RUNS],
        segments=str(root / "segments.tsv"),
        bold=[str(root / f"sub-{s}_{run}.dtseries.nii") for s in SUBJECTS for run in RUNS],
        subjects=SUBJECTS,
        log_file=str(root / "out" / "logs" / "validate_inputs.log"),
        runs=RUNS, tr=TR, frames_dir=False, models=models, couplings=COUPLINGS,
        networks=NETWORKS,
    )
    kwargs.update(change)
    return kwargs


@pytest.fixture()
def inputs(data, tmp_path):
    """A copy of the valid inputs that a test may break."""
    root = tmp_path / "inputs"
    shutil.copytree(data, root)
    return root


@pytest.fixture(autouse=True)
def nothing_expensive(monkeypatch):
    """Fail the test if validation builds a model, loads weights into one, reads BOLD
    data (not headers) or decodes a whole video."""

    def forbidden(what):
        def refuse(*args, **kwargs):
            raise AssertionError(f"validate_inputs must not {what}")
        return refuse

    from vlmbrain.fmri import bold, cifti
    from vlmbrain.models import registry
    from vlmbrain.stimuli import video

    for family in list(registry.FAMILIES):
        monkeypatch.setitem(registry.FAMILIES, family, forbidden(f"build a {family} model"))
    monkeypatch.setattr(registry, "build_model", forbidden("build a model"))
    monkeypatch.setattr(torch.nn.Module, "load_state_dict", forbidden("load weights"))
    monkeypatch.setattr(nib.arrayproxy.ArrayProxy, "__array__", forbidden("read BOLD data"))
    monkeypatch.setattr(nib.arrayproxy.ArrayProxy, "__getitem__", forbidden("read BOLD data"))
    monkeypatch.setattr(cifti, "read_dtseries", forbidden("read BOLD data"))
    monkeypatch.setattr(bold, "read_bold", forbidden("read BOLD data"))
    monkeypatch.setattr(bold, "load_subject_bold", forbidden("read BOLD data"))
    monkeypatch.setattr(video, "decode_at", forbidden("decode a whole video"))


def faults(kwargs):
    """The fault messages of a failing validation; checks that it wrote nothing but its
    log, which holds the same message."""
    with pytest.raises(InputError) as err:
        validate_inputs(**kwargs)
    message = str(err.value)
    log_file = Path(kwargs["log_file"])
    assert log_file.read_text() == message + "\n"
    assert [p for p in log_file.parents[1].rglob("*") if p.is_file()] == [log_file]
    header, *lines = message.split("\n  - ")
    assert header.endswith("found before any model is built or any BOLD is read (each names "
                           "the file or config key, the fault and the fix):")
    assert header.startswith(f"{len(lines)} fault(s) in the inputs")
    return lines


def only_fault(kwargs):
    (line,) = faults(kwargs)
    return line


# ---------------------------------------------------------------------------------------


def test_valid_inputs_pass_and_report_what_was_checked(data, tmp_path):
    kwargs = _inputs(data, log_file=str(tmp_path / "validate_inputs.log"))
    summary = validate_inputs(**kwargs)
    assert Path(kwargs["log_file"]).read_text().startswith(
        "inputs valid: 2 runs (20 TRs, 20 TRs), 4 BOLD files, models clip {")
    assert summary["runs"]["run1"]["n_trs"] == N_TRS and summary["bold_files"] == 4
    assert summary["models"]["meter"] == {"image": 2, "text": 2, "fusion_image": 2,
                                          "fusion_text": 2}


@pytest.mark.parametrize("key", list(TINY_MODELS))
def test_the_streams_read_from_the_config_are_those_built(key, monkeypatch):
    monkeypatch.undo()  # this test builds the models
    built = build_model(key, TINY_MODELS[key])
    assert model_streams(key, TINY_MODELS[key]) == {s: i.n_layers for s, i in built.streams.items()}


# BOLD ----------------------------------------------------------------------------------


def test_bold_in_another_grayordinate_space(inputs):
    path = inputs / "sub-s2_run1.dtseries.nii"
    _bold(path, bm=template_brain_models()[:1000])
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: has 1000 grayordinates in its brain-model axis, not the HCP "
                            "91282-grayordinate space")
    assert "Resample it" in fault


def test_bold_with_another_tr(inputs):
    path = inputs / "sub-s1_run2.dtseries.nii"
    _bold(path, tr=0.72)
    fault = only_fault(_inputs(inputs))
    assert fault == (f"{path}: TR is 0.72 s but the stimulus table of run run2 (from "
                     f"{inputs / 'run2.mp4'}) (data.tr) uses 1.0 s; fix data.tr or the data.")


def test_short_bold(inputs):
    path = inputs / "sub-s2_run2.dtseries.nii"
    _bold(path, n_trs=N_TRS - 3)
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: 17 TRs, but the stimulus table of run run2 (from "
                            f"{inputs / 'run2.mp4'}) has 20 TRs")


def test_bold_that_is_not_cifti(inputs):
    path = inputs / "sub-s1_run1.dtseries.nii"
    path.write_bytes(b"")
    assert only_fault(_inputs(inputs)).startswith(f"{path}: not a readable CIFTI-2 file")


# stimuli -------------------------------------------------------------------------------


def test_truncated_video(inputs):
    path = inputs / "run2.mp4"
    _faststart_mp4(path, N_TRS * FPS)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: the video is truncated: its last decodable frame ends at ")
    assert "needs frames until 18.000 s" in fault and "its last movie TR, 17" in fault


def test_zero_byte_video(inputs):
    path = inputs / "run1.mp4"
    path.write_bytes(b"")
    assert only_fault(_inputs(inputs)).startswith(f"{path}: not a readable video file")


def test_frame_folder_with_a_frame_that_does_not_decode(inputs):
    """With data.frames_dir: one image per TR; the last movie TR's image is cut short."""
    from PIL import Image

    folders = []
    for run in RUNS:
        folder = inputs / f"{run}_frames"
        folder.mkdir()
        for i, frame in enumerate(_frames(N_TRS)):
            Image.fromarray(frame).save(folder / f"{i:03d}.png")
        folders.append(str(folder))
    broken = inputs / "run2_frames" / "017.png"
    broken.write_bytes(broken.read_bytes()[:60])
    fault = only_fault(_inputs(inputs, frames=folders, frames_dir=True))
    assert fault.startswith(f"{broken}: the frame of run run2's last movie TR, 17 cannot be decoded")


def test_video_shorter_than_its_segments(inputs):
    path = inputs / "run1.mp4"
    write_video(path, _frames(12 * FPS), FPS)  # 12 s: segments end at TR 17
    fault = only_fault(_inputs(inputs))
    assert fault.startswith("run run1: a clip segment ends at TR 17 but the run has only 12 TRs "
                            f"(from {path})")


def test_captions_without_a_column(inputs):
    path = inputs / "run1_captions.tsv"
    write_tsv(path, pd.DataFrame({"onset": [0.0], "text": ["a dog."]}))
    assert only_fault(_inputs(inputs)).startswith(
        f"{path}: the captions table lacks column(s) ['duration']")


def test_captions_with_a_negative_duration(inputs):
    path = inputs / "run2_captions.tsv"
    write_tsv(path, pd.DataFrame({"onset": [0.0, 5.0], "duration": [4.0, -1.0],
                                  "text": ["a.", "b."]}))
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: captions need onset >= 0 and duration > 0")
    assert "row 2 (onset 5.0, duration -1.0)" in fault


def test_overlapping_captions(inputs):
    path = inputs / "run2_captions.tsv"
    write_tsv(path, pd.DataFrame({"onset": [0.0, 3.0], "duration": [20.0, 2.0],
                                  "text": ["long.", "short."]}))
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: 1 caption(s) start before an earlier one ends")
    assert "row 2 (onset 3 s) starts before row 1" in fault
    validate_inputs(**_inputs(inputs, caption_overlap="allow"))  # the documented policy


def test_captions_that_are_not_utf8(inputs):
    path = inputs / "run1_captions.tsv"
    path.write_bytes("onset\tduration\ttext\n0\t4\ta café.\n4\t4\tun été.\n".encode("latin-1"))
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: not UTF-8 text: byte ")
    assert "in line 2 (data row 1)" in fault and "Save the captions table as UTF-8" in fault


def test_segments_without_a_column(inputs):
    path = inputs / "segments.tsv"
    write_tsv(path, pd.DataFrame({"run": RUNS, "clip": ["a", "a"], "start": [2, 2]}))
    assert only_fault(_inputs(inputs)).startswith(
        f"{path}: the clip segment table lacks column(s) ['end', 'validation']")


# models and couplings ------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, change, fault",
    [
        ("clip", {"architecture": "ViT-B-99"},
         "models.clip.architecture: unknown open_clip architecture 'ViT-B-99'"),
        ("clip", {"overrides": {"vision_cfg": {"layerz": 2}}},
         "models.clip.overrides: ViT-B-16 has no vision_cfg.layerz"),
        ("meter", {"overrides": {"vision_layerz": 2}},
         "models.meter.overrides: unknown METER hyperparameter(s) ['vision_layerz']"),
        ("vit", {"overrides": {"hidden_sizes": 2}}, "models.vit.overrides: ViTConfig has no field"),
        ("roberta", {"family": "llama"}, "models.roberta.family: 'llama' is not one of"),
        ("roberta", {"checkpoint": "x.ckpt"}, "models.roberta: unknown key(s) ['checkpoint']"),
        ("clip", {"overrides": {}, "pretrained": "no-such-tag"},
         "models.clip.pretrained: 'no-such-tag' is neither a file nor a pretrained tag"),
    ],
)
def test_model_architecture_and_override_names(inputs, model, change, fault):
    kwargs = _inputs(inputs)
    kwargs["models"][model].update(change)
    assert only_fault(kwargs).startswith(fault)


def test_meter_checkpoint_of_another_architecture(inputs):
    path = inputs / "meter.ckpt"
    torch.manual_seed(0)
    overrides = {**TINY_MODELS["meter"]["overrides"], "num_top_layer": 3}
    save_meter_checkpoint(METER(image_size=32, **overrides), path)
    fault = only_fault(_inputs(inputs))
    assert fault.startswith(f"{path}: METER checkpoint does not match the rebuilt architecture "
                            "(52 unexpected key(s); unexpected: cross_modal_image_layers.2.")
    assert "Check models.meter.overrides" in fault


def test_meter_checkpoint_with_a_pickled_object(inputs):
    import pathlib

    path = inputs / "meter.ckpt"
    torch.save({"state_dict": {}, "callback": pathlib.PurePosixPath("x")}, path)
    assert only_fault(_inputs(inputs)).startswith(
        f"{path}: holds pickled Python objects besides tensors")


def test_file_that_is_not_a_meter_checkpoint(inputs):
    path = inputs / "meter.ckpt"
    torch.save({"weights": {"visual.proj": torch.zeros(2)}}, path)
    assert only_fault(_inputs(inputs)).startswith(f"{path}: not a METER checkpoint")


@pytest.mark.parametrize(
    "change, fault",
    [
        ({"stream": "fusion_image", "model": "clip"},
         "clip has no stream 'fusion_image'; its streams are ['image', 'text']"),
        ({"layer": 2}, "layer 2 does not exist; clip image has 2 layers, so layer must be in 0..1"),
        ({"network": "motor"}, "network 'motor' is not one of ['vision', 'language']"),
        ({"model": "vit", "like": "text"}, "like needs a model with both image and text streams"),
    ],
)
def test_coupling_streams_and_layers(inputs, change, fault):
    couplings = [dict(COUPLINGS[0], **change), COUPLINGS[1]]
    line = only_fault(_inputs(inputs, couplings=couplings))
    assert line.startswith("simulation.couplings[0] (") and fault in line


# all together --------------------------------------------------------------------------


def test_every_fault_is_reported_together(inputs):
    (inputs / "run1.mp4").write_bytes(b"")
    write_tsv(inputs / "run2_captions.tsv", pd.DataFrame({"onset": [0.0], "text": ["a."]}))
    _bold(inputs / "sub-s2_run2.dtseries.nii", tr=2.0)
    kwargs = _inputs(inputs, couplings=[dict(COUPLINGS[0], layer=7)])
    kwargs["models"]["meter"]["overrides"] = {"vision_layerz": 1}
    lines = faults(kwargs)
    assert len(lines) == 5, lines
    starts = [
        f"{inputs / 'run1.mp4'}: not a readable video file",
        f"{inputs / 'run2_captions.tsv'}: the captions table lacks column(s) ['duration']",
        f"{inputs / 'sub-s2_run2.dtseries.nii'}: TR is 2.0 s",
        "models.meter.overrides: unknown METER hyperparameter(s) ['vision_layerz']",
        "simulation.couplings[0] (",
    ]
    for line, start in zip(lines, starts, strict=True):
        assert line.startswith(start), (line, start)


# the workflow --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_workflow_validates_before_any_job(data, tmp_path, monkeypatch):
    """Real-data config on these inputs with three faults: the run stops when it starts,
    the error and the validation's log name every fault, and no job has run."""
    monkeypatch.undo()
    root = tmp_path / "inputs"
    shutil.copytree(data, root)
    _bold(root / "sub-s1_run2.dtseries.nii", n_trs=N_TRS - 2)
    write_tsv(root / "run1_captions.tsv", pd.DataFrame({"onset": [0.0], "duration": [-2.0],
                                                       "text": ["a."]}))
    models = {k: dict(v) for k, v in TINY_MODELS.items() if k in ("clip", "meter")}
    models["clip"]["architecture"] = "ViT-B-99"
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump({
        "data": {
            "source": "custom",
            "runs": RUNS,
            "subjects": SUBJECTS,
            "bold": str(root / "sub-{subject}_{run}.dtseries.nii"),
            "video": str(root / "{run}.mp4"),
            "captions": str(root / "{run}_captions.tsv"),
            "segments": str(root / "segments.tsv"),
        },
        "models": models,
        "simulation": {"couplings": []},
    }))
    work = tmp_path / "work"
    out = snakemake(work, "--cores", "2", check=False, configfiles=[config])
    assert out.returncode != 0
    faults = [
        f"{root / 'run1_captions.tsv'}: captions need onset >= 0 and duration > 0",
        f"{root / 'sub-s1_run2.dtseries.nii'}: 18 TRs, but the stimulus table of run run2",
        "models.clip.architecture: unknown open_clip architecture 'ViT-B-99'",
    ]
    log = (work / "results/logs/validate_inputs.log").read_text()
    assert log.startswith("3 fault(s) in the inputs, found before any model is built")
    for fault in faults:
        assert fault in log and fault in out.stderr
    # nothing ran: no job's log, output or benchmark
    written = [p.relative_to(work / "results").as_posix()
               for p in (work / "results").rglob("*") if p.is_file()]
    assert written == ["logs/validate_inputs.log"], written
    assert "Finished jobid" not in out.stderr


@pytest.mark.slow
def test_a_dry_run_does_not_validate(data, tmp_path, monkeypatch):
    """Dry runs and runs with nothing to do skip the checks (they run no job)."""
    monkeypatch.undo()
    root = tmp_path / "inputs"
    shutil.copytree(data, root)
    (root / "run1.mp4").write_bytes(b"")  # would be refused
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump({"data": {
        "source": "custom", "runs": RUNS, "subjects": SUBJECTS,
        "bold": str(root / "sub-{subject}_{run}.dtseries.nii"),
        "video": str(root / "{run}.mp4"), "captions": str(root / "{run}_captions.tsv"),
        "segments": str(root / "segments.tsv")}}))
    work = tmp_path / "work"
    out = snakemake(work, "--dry-run", configfiles=[config])
    assert "stimulus_tables" in out.stdout and not (work / "results").exists()
