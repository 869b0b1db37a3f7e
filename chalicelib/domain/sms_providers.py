"""Our SMS templates as the domestic providers' pre-approved templates (SPEC §11).

Alibaba Cloud and Tencent Cloud send only templates they approved, with the variables passed
separately: Aliyun by name (`${case_id}`, TemplateParam JSON), Tencent by position (`{1}`,
TemplateParamSet). templates/sms/providers.yaml maps each of our Jinja templates to one provider
template per branch ("variant"); this module loads it strictly and picks the variant for a
message. The Jinja templates stay the source of the wording: `placeholder_order` and
`provider_source` derive the providers' view from them. Pure: no AWS, no provider SDK.

    templates = load_provider_templates()
    variant = templates.pick("case_escalated", variables)
    variant.ids["aliyun"], variant.named_params(variables)      # TemplateCode, TemplateParam
    variant.ids["tencent"], variant.positional_params(variables)  # TemplateId, TemplateParamSet
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.domain import sms_text
from chalicelib.domain.data_file import DataFileReader, load_yaml

PROVIDERS = ("aliyun", "tencent")
DEFAULT_PATH = sms_text.TEMPLATE_DIR / "providers.yaml"

# Private-use characters: never in our wording, so a sentinel is found only where a variable is.
_SENTINEL = re.compile("\ue000(\\d+)\ue001")


class ProviderTemplateError(ValueError):
    """The provider mapping is broken, or no variant fits a message."""


def _sentinel(index: int) -> str:
    return f"\ue000{index}\ue001"


@dataclass(frozen=True)
class ProviderTemplate:
    """One provider template: a branch of our template `template`."""

    template: str
    when: Mapping[str, bool | str]
    params: tuple[str, ...]
    ids: Mapping[str, str]  # provider → template code (Aliyun) or template id (Tencent)

    def matches(self, variables: Mapping[str, Any]) -> bool:
        """True when every condition holds, as the Jinja `{% if %}` would see it."""
        for name, condition in self.when.items():
            value = variables.get(name)
            if isinstance(condition, bool):
                if bool(value) != condition:
                    return False
            elif value != condition:
                return False
        return True

    def _values(self, variables: Mapping[str, Any]) -> list[str]:
        values = []
        for name in self.params:
            value = variables.get(name)
            if value is None:
                # The provider would reject an empty variable; ours would render "None".
                raise ProviderTemplateError(f"{self.template}: variable '{name}' has no value")
            values.append(str(value))
        return values

    def named_params(self, variables: Mapping[str, Any]) -> dict[str, str]:
        """Aliyun's TemplateParam: each param by name, as text."""
        return dict(zip(self.params, self._values(variables), strict=True))

    def positional_params(self, variables: Mapping[str, Any]) -> list[str]:
        """Tencent's TemplateParamSet: the params as text, in `params` order ({1}, {2} …)."""
        return self._values(variables)

    def describe(self) -> str:
        """The condition as text, for messages: 'hotline=true, step=requery' or 'always'."""
        if not self.when:
            return "always"
        return ", ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.when.items()
        )


class ProviderTemplates:
    """The whole mapping: variants per template, and each variable's type and limits."""

    def __init__(
        self,
        path: Path,
        limits: Mapping[str, Mapping[str, int]],
        types: Mapping[str, str],
        templates: Mapping[str, list[ProviderTemplate]],
    ) -> None:
        self.path = path
        self._limits = limits  # type → provider → max characters
        self._types = types  # variable → type
        self._templates = templates

    def names(self) -> list[str]:
        return sorted(self._templates)

    def variants(self, template: str) -> list[ProviderTemplate]:
        if template not in self._templates:
            raise ProviderTemplateError(f"{self.path}: templates.{template}: not mapped")
        return list(self._templates[template])

    def pick(self, template: str, variables: Mapping[str, Any]) -> ProviderTemplate:
        """The first variant whose `when` holds for these variables."""
        for variant in self.variants(template):
            if variant.matches(variables):
                return variant
        raise ProviderTemplateError(
            f"{self.path}: templates.{template}: no variant matches this message"
        )

    def type_of(self, variable: str) -> str:
        if variable not in self._types:
            raise ProviderTemplateError(f"{self.path}: variables.{variable}: not declared")
        return self._types[variable]

    def limit(self, provider: str, variable: str) -> int:
        """The most characters `provider` accepts for a value of `variable`."""
        if provider not in PROVIDERS:
            raise ProviderTemplateError(f"unknown provider '{provider}' ({', '.join(PROVIDERS)})")
        return self._limits[self.type_of(variable)][provider]


# -- the providers' view of our templates -----------------------------------------------------
def _template_variables(template: str) -> list[str]:
    import jinja2.meta  # lazily, as sms_text imports jinja2: only a sender pays for it

    env = sms_text.environment()
    path = sms_text.TEMPLATE_DIR / (template + sms_text.SUFFIX)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProviderTemplateError(f"{path}: no such template") from exc
    return sorted(jinja2.meta.find_undeclared_variables(env.parse(source)))


def _sentinel_render(template: str, when: Mapping[str, bool | str]) -> tuple[str, list[str]]:
    """Our template rendered without signature, each variable a sentinel unless `when` fixes it
    (False → None, a string → itself); returns the text and the variable of each sentinel."""
    names = _template_variables(template)
    values: dict[str, Any] = {}
    for i, name in enumerate(names):
        condition = when.get(name, True)
        if condition is False:
            values[name] = None
        elif isinstance(condition, str):
            values[name] = condition
        else:
            values[name] = _sentinel(i)
    return sms_text.render(template, values, ""), names


def placeholder_order(template: str, when: Mapping[str, bool | str]) -> list[str]:
    """The variables in the order the text shows them, in the branch `when` selects: what a
    variant's `params` must be. A variable shown twice is listed twice (the providers allow
    each variable once: the mapping cannot match such a template)."""
    text, names = _sentinel_render(template, when)
    return [names[int(m.group(1))] for m in _SENTINEL.finditer(text)]


def provider_source(variant: ProviderTemplate, provider: str) -> str:
    """The text to submit to `provider` for approval: our template in the variant's branch, each
    param as the provider's placeholder (`${case_id}` or `{1}`), without the signature."""
    if provider not in PROVIDERS:
        raise ProviderTemplateError(f"unknown provider '{provider}' ({', '.join(PROVIDERS)})")
    text, names = _sentinel_render(variant.template, variant.when)

    def placeholder(match: re.Match[str]) -> str:
        name = names[int(match.group(1))]
        if name not in variant.params:
            raise ProviderTemplateError(
                f"{variant.template} ({variant.describe()}): the text shows '{name}', "
                f"which params {list(variant.params)} do not list"
            )
        if provider == "aliyun":
            return "${" + name + "}"
        return "{" + str(variant.params.index(name) + 1) + "}"

    return _SENTINEL.sub(placeholder, text)


# -- the loader ---------------------------------------------------------------------------
class _Reader(DataFileReader):
    """The mapping file's shapes: character limits and provider template ids."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, ProviderTemplateError)

    def limit(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, "must be a positive whole number of characters")
        return value

    def identifier(self, value: Any, key: str) -> str:
        # Quoted in the file: an unquoted Tencent id like 0000001 would load as a number.
        if not isinstance(value, str) or not value or any(c.isspace() for c in value):
            raise self.fail(key, "must be a template id as a quoted string without spaces")
        return value


def parse_provider_templates(
    data: Any, path: Path, known_templates: list[str] | None = None
) -> ProviderTemplates:
    """Validates the parsed file; every fault names the file and the key."""
    r = _Reader(path)
    known = set(sms_text.template_names() if known_templates is None else known_templates)
    top = r.mapping(
        data,
        "(top)",
        {"schema_version", "types", "variables", "templates"},
        {"schema_version", "types", "variables", "templates"},
    )
    if top["schema_version"] != 1:
        raise r.fail("schema_version", "must be 1")

    limits: dict[str, dict[str, int]] = {}
    for type_name, spec in r.mapping(top["types"], "types", None, set()).items():
        key = f"types.{type_name}"
        spec = r.mapping(spec, key, set(PROVIDERS), set(PROVIDERS))
        limits[type_name] = {p: r.limit(spec[p], f"{key}.{p}") for p in PROVIDERS}

    types: dict[str, str] = {}
    for var, type_name in r.mapping(top["variables"], "variables", None, set()).items():
        if not isinstance(type_name, str) or type_name not in limits:
            raise r.fail(f"variables.{var}", f"unknown type {type_name!r} (see types)")
        types[var] = type_name

    templates: dict[str, list[ProviderTemplate]] = {}
    seen: dict[tuple[str, str], str] = {}  # (provider, id) → key that first used it
    for name, raw in r.mapping(top["templates"], "templates", None, set()).items():
        if name not in known:
            raise r.fail(
                f"templates.{name}", f"unknown template (no {name}{sms_text.SUFFIX} in templates)"
            )
        if not isinstance(raw, list) or not raw:
            raise r.fail(f"templates.{name}", "must be a list of variants")
        variants = []
        for i, spec in enumerate(raw):
            key = f"templates.{name}[{i}]"
            spec = r.mapping(spec, key, {"when", *PROVIDERS, "params"}, {"params", *PROVIDERS})
            when: dict[str, bool | str] = {}
            for var, condition in r.mapping(
                spec.get("when", {}), f"{key}.when", None, set()
            ).items():
                if not isinstance(condition, bool | str):
                    raise r.fail(f"{key}.when.{var}", "must be true, false or a string")
                when[var] = condition
            params = spec["params"]
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                raise r.fail(f"{key}.params", "must be a list of variable names")
            for j, param in enumerate(params):
                if param not in types:
                    raise r.fail(
                        f"{key}.params[{j}]", f"unknown variable '{param}' (see variables)"
                    )
                if param in params[:j]:
                    raise r.fail(f"{key}.params[{j}]", f"'{param}' twice (each may appear once)")
                if when.get(param) is False:
                    raise r.fail(f"{key}.params[{j}]", f"'{param}' is a param but when says false")
            ids: dict[str, str] = {}
            for provider in PROVIDERS:
                ident = r.identifier(spec[provider], f"{key}.{provider}")
                if (provider, ident) in seen:
                    raise r.fail(
                        f"{key}.{provider}",
                        f"id {ident!r} is already used by {seen[provider, ident]}",
                    )
                seen[provider, ident] = f"{key}.{provider}"
                ids[provider] = ident
            variants.append(ProviderTemplate(name, when, tuple(params), ids))
        templates[name] = variants
    return ProviderTemplates(path, limits, types, templates)


def load_provider_templates_file(path: Path) -> ProviderTemplates:
    return parse_provider_templates(load_yaml(path, ProviderTemplateError), path)


@functools.lru_cache(maxsize=4)
def load_provider_templates(path: Path = DEFAULT_PATH) -> ProviderTemplates:
    """The mapping, read once per process (the file ships with the code)."""
    return load_provider_templates_file(path)
