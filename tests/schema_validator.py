"""The JSON Schema validator class for the report schema (draft 2020-12).

python3-jsonschema 3.2 (Debian 11) has no Draft202012Validator: then the
newest draft it knows (Draft 7) is used, saying so on stderr, and only
while the schema uses nothing that Draft 7 would silently ignore (its
2020-12 keywords here are $defs and $ref, which Draft 7 resolves the
same, once every $ref with keywords beside it is made an allOf: Draft 7
ignores those keywords); otherwise a clear error.
"""
import sys

import jsonschema

# Keywords of 2019-09/2020-12 that an older draft's validator ignores.
NEWER_KEYWORDS = {"prefixItems", "unevaluatedProperties", "unevaluatedItems",
                  "dependentRequired", "dependentSchemas", "$dynamicRef",
                  "$dynamicAnchor", "$anchor", "$recursiveRef", "minContains",
                  "maxContains"}


def _keywords(node, found):
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "properties":
                found.add(k)
            else:  # property names are not keywords
                for sub in v.values():
                    _keywords(sub, found)
                continue
            _keywords(v, found)
    elif isinstance(node, list):
        for v in node:
            _keywords(v, found)
    return found


def validator_class(schema, module=jsonschema, err=sys.stderr):
    cls = getattr(module, "Draft202012Validator", None)
    if cls is not None:
        return cls
    cls = module.validators.validator_for({})  # the newest it knows
    newer = sorted(_keywords(schema, set()) & NEWER_KEYWORDS)
    if newer:
        raise SystemExit("schema_validator: this python3-jsonschema has no "
                         "Draft202012Validator and %s would ignore %s"
                         % (cls.__name__, ", ".join(newer)))
    err.write("schema_validator: python3-jsonschema without Draft202012Validator "
              "(Debian 11's 3.2): validating with %s, which knows every keyword "
              "the schema uses, $ref beside other keywords made an allOf\n"
              % cls.__name__)

    class Compat(cls):
        """Draft 7 ignores every keyword beside a $ref (2019-09 on applies
        both): the schema is given with such an object made an allOf of
        its $ref and the rest, which 2020-12 means the same."""

        def __init__(self, schema, *args, **kwargs):
            super().__init__(_split_refs(schema), *args, **kwargs)

    Compat.__name__ = cls.__name__ + "Compat"
    return Compat


def _split_refs(node):
    if isinstance(node, list):
        return [_split_refs(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (_split_refs(v) if k != "properties" else
               {n: _split_refs(s) for n, s in v.items()})
           for k, v in node.items()}
    # $id, $schema and $defs stay where they were (the base URI and the
    # pointers into $defs must not move).
    keep = ("$ref", "$defs", "$id", "$schema")
    if "$ref" in out:
        rest = {k: v for k, v in out.items() if k not in keep}
        if rest:
            split = {k: v for k, v in out.items() if k in keep and k != "$ref"}
            split["allOf"] = [{"$ref": out["$ref"]}, rest]
            return split
    return out
