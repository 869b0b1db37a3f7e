"""The provider checks of the SMS linter (SPEC §11; BACKGROUND "Domestic SMS providers"). Pure.
Test tooling beside tests/sms_lint.py, whose longest legal values and alternatives it reuses;
tests/unit/test_sms_provider_templates.py runs it.

templates/sms/providers.yaml must agree with the Jinja templates, which stay the source:
every template mapped and nothing else; each variant's `params` in the order its branch of the
text shows them; for every combination of the alternatives exactly one variant matching, whose
provider text, filled in, is exactly what our renderer sends. And the providers' own rules: each
value within its type's limit (with the longest legal values), no links in values or texts, no
adjacent placeholders (Tencent), a sign name of 2–12 characters for every stage.

    problems = lint_providers()        # [] when the mapping is fine
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
import jinja2.nodes

from chalicelib.domain import sms_text
from chalicelib.domain.sms_providers import (
    PROVIDERS,
    ProviderTemplate,
    ProviderTemplateError,
    ProviderTemplates,
    load_provider_templates,
    placeholder_order,
    provider_source,
)
from tests import sms_lint

SIGN_NAME_CHARS = sms_lint.SIGNATURE_CHARS  # 2–12, the signature between 【 and 】
_PLACEHOLDER = {"aliyun": r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", "tencent": r"\{([1-9][0-9]*)\}"}
_ADJACENT = {p: re.compile(f"(?:{rx})\\s*(?:{rx})") for p, rx in _PLACEHOLDER.items()}


def _label(variant: ProviderTemplate, index: int) -> str:
    return f"{variant.template}[{index}] ({variant.describe()})"


# -- what our templates allow -------------------------------------------------------------
def optional_variables(template: str) -> set[str]:
    """Variables the template tests bare (`{% if due %}`): they may be None."""
    source = sms_lint.template_sources()[template]
    tree = sms_text.environment().parse(source)
    return {
        node.test.name
        for node in tree.find_all(jinja2.nodes.If)
        if isinstance(node.test, jinja2.nodes.Name)
    }


def combinations(template: str, variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination a message of `template` may carry: the linter's alternatives
    (sms_lint.ALTERNATIVES) and None for each variable the template tests bare."""
    source = sms_lint.template_sources()[template]
    used = sms_lint.template_variables(source)
    optional = sorted(optional_variables(template) - set(sms_lint.ALTERNATIVES))
    result = []
    for combo in sms_lint.variable_combinations(used, variables):
        for nones in itertools.product((False, True), repeat=len(optional)):
            result.append(
                {**combo, **{n: None for n, none in zip(optional, nones, strict=True) if none}}
            )
    return result


# -- what a provider does with a template and its params --------------------------------------
def fill(variant: ProviderTemplate, provider: str, variables: Mapping[str, Any]) -> str:
    """The text the provider sends (without the signature): its template filled in."""
    text = provider_source(variant, provider)
    if provider == "aliyun":
        named = variant.named_params(variables)
        return re.sub(_PLACEHOLDER["aliyun"], lambda m: named[m.group(1)], text)
    positional = variant.positional_params(variables)
    return re.sub(_PLACEHOLDER["tencent"], lambda m: positional[int(m.group(1)) - 1], text)


# -- the checks -----------------------------------------------------------------------------
def lint_coverage(mapping: ProviderTemplates, names: Iterable[str] | None = None) -> list[str]:
    """Every template of templates/sms/ is mapped, and nothing else."""
    expected = set(sms_text.template_names() if names is None else names)
    mapped = set(mapping.names())
    return [
        f"{mapping.path}: templates.{n}: missing (templates/sms/{n}{sms_text.SUFFIX} exists)"
        for n in sorted(expected - mapped)
    ] + [f"{mapping.path}: templates.{n}: no such template" for n in sorted(mapped - expected)]


def lint_order(mapping: ProviderTemplates) -> list[str]:
    """Each variant's params are exactly the variables its branch of the text shows, in order."""
    problems = []
    for name in mapping.names():
        used = sms_lint.template_variables(sms_lint.template_sources()[name])
        for i, variant in enumerate(mapping.variants(name)):
            for var in sorted(set(variant.when) - used):
                problems.append(f"{_label(variant, i)}: when names '{var}', unused by the text")
            order = placeholder_order(name, variant.when)
            if list(variant.params) != order:
                missing = [v for v in order if v not in variant.params]
                extra = [v for v in variant.params if v not in order]
                detail = (
                    f"missing {missing}"
                    if missing
                    else f"extra {extra}"
                    if extra
                    else "out of order"
                )
                problems.append(
                    f"{_label(variant, i)}: params {list(variant.params)} but the text shows "
                    f"{order} ({detail})"
                )
    return problems


def lint_rendering(mapping: ProviderTemplates, variables: Mapping[str, Any]) -> list[str]:
    """For every combination, exactly one variant matches, and each provider's text filled in
    is exactly what sms_text.render sends (minus the signature)."""
    problems = []
    for name in mapping.names():
        variants = mapping.variants(name)
        used = sms_lint.template_variables(sms_lint.template_sources()[name])
        varying = used & (set(sms_lint.ALTERNATIVES) | optional_variables(name))
        for combo in combinations(name, variables):
            shown = {k: combo[k] for k in sorted(varying)}  # what tells the combinations apart
            matching = [i for i, v in enumerate(variants) if v.matches(combo)]
            if len(matching) != 1:
                problems.append(f"{name}: {len(matching)} variants match {shown} (must be 1)")
                continue
            variant = mapping.pick(name, combo)
            expected = sms_text.render(name, combo, "")
            for provider in PROVIDERS:
                try:
                    got = fill(variant, provider, combo)
                except ProviderTemplateError as exc:
                    problems.append(f"{_label(variant, matching[0])}: {provider}: {exc}")
                    continue
                if got != expected:
                    problems.append(
                        f"{_label(variant, matching[0])}: {provider} sends {got!r} "
                        f"but the template renders {expected!r} for {shown}"
                    )
    return problems


def lint_limits(mapping: ProviderTemplates, variables: Mapping[str, Any]) -> list[str]:
    """With the longest legal values, every param fits its type's limit at each provider."""
    problems = []
    for name in mapping.names():
        for i, variant in enumerate(mapping.variants(name)):
            for combo in combinations(name, variables):
                if not variant.matches(combo):
                    continue
                for param, value in variant.named_params(combo).items():
                    for provider in PROVIDERS:
                        limit = mapping.limit(provider, param)
                        if len(value) > limit:
                            problem = (
                                f"{_label(variant, i)}: {provider}: '{param}' can be "
                                f"{len(value)} characters ({value!r}); its type "
                                f"'{mapping.type_of(param)}' allows {limit}"
                            )
                            if problem not in problems:
                                problems.append(problem)
    return problems


def lint_links(mapping: ProviderTemplates, variables: Mapping[str, Any]) -> list[str]:
    """No link in a provider text nor in any param value (both providers forbid them)."""
    problems = []
    for name in mapping.names():
        for i, variant in enumerate(mapping.variants(name)):
            for provider in PROVIDERS:
                link = sms_lint._LINK.search(sms_lint._normal(provider_source(variant, provider)))
                if link:
                    problems.append(f"{_label(variant, i)}: {provider} text has a link")
            for combo in combinations(name, variables):
                if not variant.matches(combo):
                    continue
                for param, value in variant.named_params(combo).items():
                    if sms_lint._LINK.search(sms_lint._normal(value)):
                        problems.append(
                            f"{_label(variant, i)}: '{param}' value {value!r} is a link"
                        )
    return problems


def lint_adjacent(mapping: ProviderTemplates) -> list[str]:
    """No two placeholders side by side in any provider text (Tencent and Aliyun refuse it)."""
    problems = []
    for name in mapping.names():
        for i, variant in enumerate(mapping.variants(name)):
            for provider in PROVIDERS:
                adjacent = _ADJACENT[provider].search(provider_source(variant, provider))
                if adjacent:
                    problems.append(
                        f"{_label(variant, i)}: {provider}: adjacent placeholders "
                        f"'{adjacent.group()}'"
                    )
    return problems


def sign_name(signature: str) -> str:
    """The sign name a provider takes: the stage signature without 【】."""
    return signature.removeprefix("【").removesuffix("】")


def lint_sign_names(signatures: Mapping[str, str] | None = None) -> list[str]:
    """Every stage's sign name is 2–12 characters."""
    low, high = SIGN_NAME_CHARS
    problems = []
    for stage, signature in (signatures or sms_lint.stage_signatures()).items():
        name = sign_name(signature)
        if not low <= len(name) <= high:
            problems.append(
                f"stage {stage}: sign name {name!r} is {len(name)} characters "
                f"(allowed {low}–{high})"
            )
    return problems


def lint_providers(mapping: ProviderTemplates | None = None) -> list[str]:
    """Every provider problem: the mapping against the templates, and the providers' limits."""
    mapping = mapping or load_provider_templates()
    variables = sms_lint.longest_variables()
    problems = lint_coverage(mapping) + lint_order(mapping)
    if problems:  # the rest renders the mapping: only meaningful once it agrees with the text
        return problems
    return (
        lint_rendering(mapping, variables)
        + lint_limits(mapping, variables)
        + lint_links(mapping, variables)
        + lint_adjacent(mapping)
        + lint_sign_names()
    )
