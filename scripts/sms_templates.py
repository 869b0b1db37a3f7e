"""Prints every provider template to submit for approval (SPEC §11), from our Jinja templates.

    python scripts/sms_templates.py --provider aliyun
    python scripts/sms_templates.py --provider tencent

For each variant of templates/sms/providers.yaml: our template, the branch it covers, the
provider template code/id the mapping holds (a placeholder until the provider approves the
text), the text in the provider's placeholder syntax (`${case_id}` or `{1}`), and each
placeholder's type and the provider's limit. The text carries no signature: the provider adds
it from the sign name. Read with the service's own loader, so what is printed is what is sent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make chalicelib importable
    sys.path.insert(0, str(ROOT))

from chalicelib.domain.sms_providers import (  # noqa: E402
    DEFAULT_PATH,
    PROVIDERS,
    ProviderTemplateError,
    ProviderTemplates,
    load_provider_templates_file,
    provider_source,
)

ID_LABEL = {"aliyun": "TemplateCode", "tencent": "TemplateId"}


def report(mapping: ProviderTemplates, provider: str) -> str:
    path = mapping.path.relative_to(ROOT) if mapping.path.is_relative_to(ROOT) else mapping.path
    lines = [
        f"# {provider} templates from {path}",
        "# Ids are placeholders until the provider approves each text: put the approved ones",
        "# in the file. The provider adds the signature (sign name) itself.",
    ]
    for name in mapping.names():
        for i, variant in enumerate(mapping.variants(name)):
            lines += [
                "",
                f"{name}[{i}]  when: {variant.describe()}",
                f"  {ID_LABEL[provider]}: {variant.ids[provider]}",
                f"  text: {provider_source(variant, provider)}",
            ]
            for n, param in enumerate(variant.params, start=1):
                placeholder = "${" + param + "}" if provider == "aliyun" else "{" + str(n) + "}"
                lines.append(
                    f"  {placeholder} = {param}: type {mapping.type_of(param)}, "
                    f"at most {mapping.limit(provider, param)} characters"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", required=True, help=" or ".join(PROVIDERS))
    parser.add_argument("--file", type=Path, default=DEFAULT_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.provider not in PROVIDERS:
        print(
            f"sms_templates: unknown provider {args.provider!r}: use one of {', '.join(PROVIDERS)}",
            file=sys.stderr,
        )
        return 2
    try:
        sys.stdout.write(report(load_provider_templates_file(args.file), args.provider))
    except ProviderTemplateError as exc:
        print(f"sms_templates: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
