"""Write the generated reference pages of docs/reference/ from the code, so that they cannot drift from it.

- ``python-api.md``: the public API (``cardiospike.__all__``): each function's and class's signature and docstring,
  and the public methods and properties of each class.
- ``rest-api.md``: the service's OpenAPI schema (``create_app()`` with the shipped model): each route, its summary,
  parameters, request body fields and answers, then the schemas of the answers.

Run ``.venv/bin/python docs/generate.py`` (or ``make docs``) after changing a docstring, a route or a schema, and
commit the pages it writes; ``tests/unit/test_docs_folder.py`` fails while they differ from what it would write.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
REFERENCE = DOCS / "reference"
COMMAND = "`.venv/bin/python docs/generate.py` (`make docs`)"

#: Sphinx roles in docstrings (:func:`x`, :class:`~a.b.C`), shown as code: the last part where ``~`` asks for it.
ROLE = re.compile(r":[a-z]+:`(~?)([^`]+)`")
#: Sections of numpydoc docstrings whose entries are ``name : type`` lines followed by indented descriptions.
SECTION_UNDERLINE = re.compile(r"^-{3,}$")


# --- docstrings as Markdown ---------------------------------------------------------------------------------------


def _inline(text: str) -> str:
    """A docstring line as Markdown: reST roles and double backticks as code spans, ``<`` outside code escaped."""
    text = ROLE.sub(lambda m: f"``{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}``", text)
    pieces = re.split(r"(``.+?``)", text)
    out = []
    for piece in pieces:
        if piece.startswith("``") and piece.endswith("``") and len(piece) > 4:
            out.append(f"`{piece[2:-2]}`")
        else:
            out.append(piece.replace("<", "&lt;"))
    return "".join(out)


def docstring_markdown(doc: str | None) -> str:
    """A numpydoc docstring as Markdown: section titles in bold, each ``name : type`` entry a list item."""
    if not doc:
        return ""
    lines = doc.splitlines()
    out: list[str] = []
    in_section = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and SECTION_UNDERLINE.match(lines[i + 1].strip()):
            out += ["", f"**{line.strip()}**", ""]
            in_section = True
            i += 2
            continue
        if in_section and line and not line.startswith(" "):
            name, _, kind = line.partition(" : ")
            entry = f"`{name.strip()}` ({_inline(kind.strip())})" if kind else _inline(name.strip())
            out.append(f"- {entry}:")
        elif in_section and line.startswith(" "):
            out.append(f"  {_inline(line.strip())}")  # the description of the entry above, in its list item
        else:
            out.append(_inline(line))
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


# --- the Python API -----------------------------------------------------------------------------------------------


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _parameter(param: inspect.Parameter) -> str:
    stars = "*" if param.kind is param.VAR_POSITIONAL else "**" if param.kind is param.VAR_KEYWORD else ""
    text = stars + param.name
    if param.annotation is not param.empty:
        text += f": {_annotation(param.annotation)}"
    if param.default is not param.empty:
        text += f"{' = ' if param.annotation is not param.empty else '='}{param.default!r}"
    return text


def _signature(obj: Callable[..., Any], name: str, *, method: bool = False, returns: bool = True) -> str:
    """``name(parameters) -> returns`` as the source writes it (annotations unquoted); a long one a parameter a line.
    ``method``: leave out the first parameter (``self``, ``cls``); ``returns``: show the return annotation."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # an exception class of a builtin base: no signature of its own
        return name + "(...)"
    params = list(signature.parameters.values())[1 if method else 0 :]
    shown: list[str] = []
    for i, param in enumerate(params):
        before = params[i - 1].kind if i else None
        if param.kind is param.KEYWORD_ONLY and before not in (param.KEYWORD_ONLY, param.VAR_POSITIONAL):
            shown.append("*")
        if before is param.POSITIONAL_ONLY and param.kind is not param.POSITIONAL_ONLY:
            shown.append("/")
        shown.append(_parameter(param))
    if params and params[-1].kind is params[-1].POSITIONAL_ONLY:
        shown.append("/")
    answer = signature.return_annotation
    tail = "" if answer is signature.empty or not returns else f" -> {_annotation(answer)}"
    one_line = f"{name}({', '.join(shown)}){tail}"
    if len(one_line) <= 100:
        return one_line
    return f"{name}(\n" + "".join(f"    {p},\n" for p in shown) + f"){tail}"


def _own_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties a class of the package defines (not those of object or Exception)."""
    seen = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("cardiospike"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            if isinstance(value, property | classmethod | staticmethod) or inspect.isfunction(value):
                seen.add(name)
                yield name, value


def _member(cls: type, name: str, value: Any) -> list[str]:
    """A public method or property of a class: its heading, signature and docstring."""
    title = f"{cls.__name__}.{name}"
    if isinstance(value, property):
        returns = inspect.signature(value.fget).return_annotation if value.fget else inspect.Signature.empty
        kind = "" if returns is inspect.Signature.empty else f": {_annotation(returns)}"
        code, doc = f"{title}{kind}  # a property", inspect.getdoc(value)
    elif isinstance(value, staticmethod):
        code, doc = "@staticmethod\n" + _signature(value.__func__, title), inspect.getdoc(value.__func__)
    elif isinstance(value, classmethod):
        code = "@classmethod\n" + _signature(value.__func__, title, method=True)
        doc = inspect.getdoc(value.__func__)
    else:
        code, doc = _signature(value, title, method=True), inspect.getdoc(value)
    return [f"### `{title}`", "", "```python", code, "```", "", docstring_markdown(doc)]


def python_api() -> str:
    """The reference page of ``cardiospike.__all__``."""
    import cardiospike

    names = [n for n in cardiospike.__all__ if n != "__version__"]
    out = [
        "# Python API reference",
        "",
        f"Generated by {COMMAND} from the docstrings of `cardiospike.__all__`;",
        "do not edit it by hand. The guide to these names, with examples, is [the Python API](../python.md).",
        "",
        "`import cardiospike` loads none of pandas, scikit-learn or LightGBM: each name below is imported on first",
        "use.",
        "",
        "| name | what |",
        "| --- | --- |",
        "| [`__version__`](#__version__) | the package version (a string), read from the installed metadata |",
    ]
    for name in names:
        obj = getattr(cardiospike, name)
        first = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
        out.append(f"| [`{name}`](#{name.lower()}) | {_inline(first).replace('|', '&#124;')} |")
    out += ["", "## `__version__`", "", "The package version, as `cardiospike --version` prints it; read from the"]
    out += ["installed metadata on first use.", ""]
    for name in names:
        obj = getattr(cardiospike, name)
        out += [f"## `{name}`", ""]
        if inspect.isclass(obj):
            bases = [b.__name__ for b in obj.__bases__ if b is not object]
            where = f"class in `{obj.__module__}`" + (f", a subclass of `{', '.join(bases)}`" if bases else "")
            out += [f"*{where}*", "", "```python", "class " + _signature(obj, name, returns=False), "```", ""]
            out.append(docstring_markdown(inspect.getdoc(obj)))
            for member, value in _own_members(obj):
                out += _member(obj, member, value)
        else:
            out += [f"*function in `{obj.__module__}`*", "", "```python", _signature(obj, name), "```", ""]
            out.append(docstring_markdown(inspect.getdoc(obj)))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip() + "\n"


# --- the REST API -------------------------------------------------------------------------------------------------


def _cell(text: object) -> str:
    """Text for a table cell: one line, ``|`` escaped, reST code spans as Markdown ones."""
    return _inline(" ".join(str(text).split())).replace("|", "\\|")


def _ref(schema: dict[str, Any]) -> str:
    return schema["$ref"].rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    """A JSON schema's type in words, with a link to a named schema of the page."""
    if "$ref" in schema:
        name = _ref(schema)
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [_type(s) for s in schema["anyOf"]]
        return " or ".join(k for k in kinds)
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "string" and schema.get("format") == "binary":
        return "file"
    return str(kind)


def _limits(schema: dict[str, Any]) -> str:
    found = []
    for branch in [schema, *schema.get("anyOf", [])]:
        for key, label in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
            ("minLength", "length >="),
            ("maxLength", "length <="),
            ("minItems", "items >="),
            ("maxItems", "items <="),
        ):
            if key in branch:
                found.append(f"{label} {branch[key]}")
        items = branch.get("items", {})
        for key, label in (("minimum", "each >="), ("maximum", "each <=")):
            if key in items:
                found.append(f"{label} {items[key]}")
    if "default" in schema:
        found.append(f"default `{schema['default']}`")
    return ", ".join(found)


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | limits | description |", "| --- | --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        rows.append(
            f"| `{name}` | {_type(field)} | {'yes' if name in required else 'no'} | {_cell(_limits(field))} | "
            f"{_cell(field.get('description', ''))} |"
        )
    return rows


def _operation(path: str, method: str, op: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}`", "", _cell(op.get("summary", "")), ""]
    if op.get("description") and op["description"] != op.get("summary"):
        out += [op["description"].strip(), ""]
    if op.get("parameters"):
        out += [
            "Parameters:",
            "",
            "| name | in | type | required | limits | description |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for param in op["parameters"]:
            schema = param.get("schema", {})
            out.append(
                f"| `{param['name']}` | {param['in']} | {_type(schema)} | {'yes' if param.get('required') else 'no'} | "
                f"{_cell(_limits(schema))} | {_cell(param.get('description', schema.get('description', '')))} |"
            )
        out.append("")
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            schema = content.get("schema", {})
            if "$ref" in schema:
                schema = schemas[_ref(schema)]
            out += [f"Request body (`{media}`{', required' if body.get('required') else ''}):", ""]
            out += _fields(schema)
            out.append("")
    out += ["Answers:", "", "| status | content | description |", "| --- | --- | --- |"]
    for status, answer in op.get("responses", {}).items():
        kinds = []
        for media, content in answer.get("content", {}).items():
            schema = content.get("schema", {})
            kinds.append(f"`{media}` {_type(schema)}" if schema else f"`{media}`")
        out.append(f"| {status} | {'; '.join(kinds)} | {_cell(answer.get('description', ''))} |")
    return [*out, ""]


def _openapi() -> dict[str, Any]:
    """The schema of the app as a plain ``cardiospike serve`` builds it: the shipped model, the default settings (not
    this shell's ``CARDIOSPIKE_*`` variables or ``.env``: an API key would add its 401 answers)."""
    from cardiospike.serving.app import create_app
    from cardiospike.serving.settings import Settings

    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.upper().startswith("CARDIOSPIKE_")}
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    finally:
        os.environ.update(saved)
    return create_app(settings).openapi()


def rest_api() -> str:
    """The reference page of the REST API."""
    schema = _openapi()
    schemas = schema.get("components", {}).get("schemas", {})
    out = [
        "# REST API reference",
        "",
        f"Generated by {COMMAND} from the service's OpenAPI schema",
        "(`create_app()` with the shipped model and the default settings); do not edit it by hand. The guide to the",
        "service, its settings and its limits is [the REST API](../rest-api.md); a running service shows the same",
        "schema at `/docs` and `/openapi.json`. The live stream's WebSocket, which OpenAPI does not describe, is in",
        "[live scoring](../live.md#over-the-network).",
        "With an API key set (`CARDIOSPIKE_API_KEY`), the routes that take or give recordings also answer 401.",
        "",
        schema["info"].get("description", "").strip(),
        "",
        "## Routes",
        "",
    ]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            out += _operation(path, method, op, schemas)
    out += ["## Schemas", ""]
    for name, component in schemas.items():
        out += [f"### {name}", ""]
        if component.get("description"):
            out += [_cell(component["description"]), ""]
        out += _fields(component)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


#: Each generated page and the function that writes it.
PAGES: dict[str, Callable[[], str]] = {"python-api.md": python_api, "rest-api.md": rest_api}


def main() -> int:
    REFERENCE.mkdir(exist_ok=True)
    for name, make in PAGES.items():
        path = REFERENCE / name
        text = make()
        changed = not path.is_file() or path.read_text() != text
        path.write_text(text)
        print(f"{path.relative_to(DOCS.parent)}: {'written' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
