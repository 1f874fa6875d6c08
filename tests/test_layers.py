"""The layers the tree is drawn in: the operations tooling stands apart from the Pulumi program
(it starts without loading the Pulumi SDK, 0.5 s of each command) and nothing below points back
up. Read from the source's imports, module level (an import inside a function is loaded only
when that function runs)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "diagnyx_infra"
# What a layer may never load, directly or through the package's other modules.
FORBIDDEN = {
    "ops": ("pulumi", "pulumi_aws", "diagnyx_infra.components", "diagnyx_infra.stacks",
            "diagnyx_infra.engine", "diagnyx_infra.rehearsal"),
    "policies": ("pulumi", "pulumi_aws", "diagnyx_infra.components", "diagnyx_infra.ops",
                 "diagnyx_infra.rehearsal"),
}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _module_level_imports(p) for p in PACKAGE.rglob("*.py")}


def loaded_by(module: str, graph: dict[str, set[str]]) -> set[str]:
    """Every module importing ``module`` loads, the package's own followed through."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        for target in graph.get(current, ()):
            # importing a.b.c loads a.b's __init__ and a.b.c's: both are followed
            names = [".".join(target.split(".")[:i]) for i in range(1, target.count(".") + 2)]
            for name in names:
                if name not in seen:
                    seen.add(name)
                    if name in graph:
                        todo.append(name)
    return seen


@pytest.mark.parametrize("layer", FORBIDDEN)
def test_no_layer_loads_what_sits_above_it(layer):
    graph = _graph()
    breaches = {
        f"{module} loads {name}"
        for module in graph
        if module.startswith(f"diagnyx_infra.{layer}")
        for name in loaded_by(module, graph)
        if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN[layer])
    }
    assert breaches == set()


def test_the_check_sees_an_import_that_breaks_a_layer():
    graph = _graph()
    graph["diagnyx_infra.config.models"] = graph["diagnyx_infra.config.models"] | {
        "diagnyx_infra.components.baseline"
    }
    assert "diagnyx_infra.components.baseline" in loaded_by("diagnyx_infra.ops.drift", graph)
    graph["diagnyx_infra.components.baseline"] = {"pulumi"}
    assert "pulumi" in loaded_by("diagnyx_infra.ops.drift", graph)
