"""The HTML report opens in headless Chromium with every image loaded and no console error.

Uses the session fixture ``tiny_report`` (tests/conftest.py): the path of a report.html made
by running the whole workflow on a tiny config.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPECTED_CATEGORIES = ["1. Prediction", "2. Redundancy", "3. Polarity", "4. Architecture",
                       "5. Brain maps", "7. Attribution (unique variance)", "Provenance"]
# Injected first in <head>: records console errors and uncaught exceptions.
HOOK = (
    "<script>window.__errors=[];(function(){var e=console.error;console.error=function(){"
    "window.__errors.push(Array.from(arguments).join(' '));e.apply(console,arguments);};"
    "window.addEventListener('error',function(ev){window.__errors.push(String(ev.message"
    "||ev.type));});})();</script>"
)
# Injected before </body>: loads every image of the report and writes a summary.
CHECK = (
    "<script>window.addEventListener('load',function(){var keys=Object.keys(results)"
    ".filter(function(k){return String(results[k].mime_type).indexOf('image/')===0;});"
    "var n=0,ok=0,bad=[];function fin(){n++;if(n>=keys.length){setTimeout(function(){"
    "var d=document.createElement('pre');d.id='vlmcheck';d.textContent=JSON.stringify("
    "{images:keys.length,loaded:ok,failed:bad,errors:window.__errors,"
    "app:document.getElementById('app').innerHTML.length});document.body.appendChild(d);"
    "},500);}}if(!keys.length){n=-1;fin();}keys.forEach(function(k){var im=new Image();"
    "im.onload=function(){if(im.naturalWidth>0){ok++;}else{bad.push(k);}fin();};"
    "im.onerror=function(){bad.push(k);fin();};im.src=results[k].data_uri;});});</script>"
)


def _chromium():
    """Debian's chromium; installed with apt-get when missing and possible, else skip."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env,
                       capture_output=True, timeout=900)
        if shutil.which("chromium"):
            return shutil.which("chromium")
    pytest.skip("chromium is not installed and cannot be installed here")


def _run(chromium, tmp_path, *args):
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=300,
    )


def _embedded(html, name):
    start = html.rindex(f"var {name} = ") + len(f"var {name} = ")
    return json.loads(html[start : html.index(";\n", start)])


@pytest.mark.slow
def test_report_in_chromium(tiny_report, tmp_path):
    chromium = _chromium()
    report = Path(tiny_report)
    html = report.read_text()
    results = _embedded(html, "results")
    categories = _embedded(html, "categories")
    for category in EXPECTED_CATEGORIES:
        assert category in categories, f"report has no category {category!r}"
    images = {k: v for k, v in results.items() if v["mime_type"].startswith("image/")}
    assert images, "report has no figures"
    prediction = [p for paths in categories["1. Prediction"].values() for p in paths]
    assert any(p.endswith("tables/noise_ceiling.tsv") for p in prediction), "no noise ceiling"
    for path, entry in images.items():
        assert len(re.sub("<[^>]+>", "", entry["caption"]).strip()) > 40, f"no caption: {path}"

    page = tmp_path / "check.html"
    head = html.index("<head>") + len("<head>")
    body = html.rindex("</body>")
    page.write_text(html[:head] + HOOK + html[head:body] + CHECK + html[body:])
    run = _run(chromium, tmp_path, "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="vlmcheck">(.*?)</pre>', run.stdout, re.S)
    assert found, f"report did not finish loading in chromium: {run.stderr[-2000:]}"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["images"] == len(images) and check["loaded"] == len(images), check
    assert check["failed"] == [] and check["errors"] == [], check
    assert check["app"] > 1000, "the report's app did not render"

    shot = report.parent / "report_screenshot.png"
    run = _run(chromium, tmp_path, "--window-size=1400,1000", "--virtual-time-budget=10000",
               f"--screenshot={shot}", report.resolve().as_uri())
    assert shot.is_file(), run.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.std() > 10, "screenshot is blank"
