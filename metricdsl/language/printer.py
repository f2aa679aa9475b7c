"""Canonical text of an expression: spacing, lower-case keywords, minimal parentheses, wrapping."""

from __future__ import annotations

from metricdsl.language import ast

# Binding strength, loosest first; a child looser than its place needs parentheses.
OR, AND, NOT, COMPARISON, SUM, PRODUCT, UNARY, ATOM = range(8)
BINARY_LEVEL = {
    "or": OR,
    "and": AND,
    "+": SUM,
    "-": SUM,
    "*": PRODUCT,
    "/": PRODUCT,
    "%": PRODUCT,
    **{op: COMPARISON for op in ("==", "!=", "<", "<=", ">", ">=")},
}
WIDTH = 88


def format_expr(node: ast.Expr, width: int = WIDTH, indent: str = "    ") -> str:
    """The canonical text of `node`: one line, or wrapped before top-level `and`/`or`/`+`/`-`.

    `parse(format_expr(tree)) == tree` for every tree the parser can produce.
    """
    line = _text(node)
    if len(line) <= width or not isinstance(node, ast.Binary) or node.op not in ("and", "or", "+", "-"):
        return line
    level = BINARY_LEVEL[node.op]
    operands: list[tuple[str, ast.Expr]] = []
    while isinstance(node, ast.Binary) and BINARY_LEVEL.get(node.op) == level:
        operands.append((node.op, node.right))
        node = node.left
    first = _child(node, level)
    rest = [f"{op} {_child(right, level + 1)}" for op, right in reversed(operands)]
    return f"\n{indent}".join([first, *rest])


def _level(node: ast.Expr) -> int:
    match node:
        case ast.Binary(op=op):
            return BINARY_LEVEL[op]
        case ast.Unary(op="not"):
            return NOT
        case ast.Unary():
            return UNARY
        case ast.In() | ast.Between() | ast.IsNull():
            return COMPARISON
    return ATOM


def _child(node: ast.Expr, at_least: int) -> str:
    text = _text(node)
    return f"({text})" if _level(node) < at_least else text


def _text(node: ast.Expr) -> str:
    match node:
        case ast.Number(value=value):
            return repr(value)
        case ast.String(value=value):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        case ast.Bool(value=value):
            return "true" if value else "false"
        case ast.Null():
            return "null"
        case ast.Duration(text=text):
            return text
        case ast.Date(value=value):
            return f"@{value.isoformat()}"
        case ast.Name(name=name):
            return name
        case ast.ListOf(items=items):
            return "[" + ", ".join(_text(i) for i in items) + "]"
        case ast.Unary(op="not", operand=operand):
            return f"not {_child(operand, NOT)}"
        case ast.Unary(operand=operand):
            return f"-{_child(operand, UNARY)}"
        case ast.Binary(op=op, left=left, right=right):
            level = BINARY_LEVEL[op]
            # Left-associative: a same-level right operand needs parentheses; comparisons do not chain.
            left_min = level + 1 if level == COMPARISON else level
            return f"{_child(left, left_min)} {op} {_child(right, level + 1)}"
        case ast.In(operand=operand, items=items, negated=negated):
            return f"{_child(operand, SUM)} {'not in' if negated else 'in'} {_text(items)}"
        case ast.Between(operand=operand, low=low, high=high):
            return f"{_child(operand, SUM)} between {_child(low, SUM)} and {_child(high, SUM)}"
        case ast.IsNull(operand=operand, negated=negated):
            return f"{_child(operand, SUM)} is {'not ' if negated else ''}null"
        case ast.Case(whens=whens, otherwise=otherwise):
            parts = ["case", *(f"when {_text(c)} then {_text(v)}" for c, v in whens)]
            if otherwise is not None:
                parts.append(f"else {_text(otherwise)}")
            return " ".join([*parts, "end"])
        case ast.Call(func=func, args=args, where=where, keywords=keywords):
            arguments = [_text(a) for a in args]
            if where is not None:
                filtered = f"where {_text(where)}"
                arguments = [f"{arguments[0]} {filtered}", *arguments[1:]] if arguments else [filtered]
            arguments += [f"{k.name}={_text(k.value)}" for k in keywords]
            return f"{func}({', '.join(arguments)})"
    raise AssertionError(f"unhandled node {node!r}")
