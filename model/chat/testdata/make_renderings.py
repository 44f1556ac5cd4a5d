#!/usr/bin/env python3
"""Renders chat templates with Python's jinja2 the way Hugging Face
transformers does (apply_chat_template), for goformer's model/chat tests.

    python3 model/chat/testdata/make_renderings.py /tmp/llama-src [OUT]

reads llama.cpp's real templates (models/templates/*.jinja) and the cases
of its tests/test-chat-template.cpp, adds the templates of testdata/extra/
(families llama.cpp's folder lacks), and writes (to OUT, by default this folder)

    templates/*.jinja   the templates, copied
    renderings.json     every template rendered on every conversation, or
                        the error it raised; llama.cpp's cases; the
                        whitespace-control cases

so that go test compares goformer's rendering with jinja2's without Python
or the llama.cpp source. The environment is transformers' own:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with
loopcontrols, its tojson (ensure_ascii=False), raise_exception and
strftime_now (here at a fixed time, NOW), and the generation tag as a no-op.
"""

import datetime
import json
import os
import re
import shutil
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = datetime.datetime(2024, 7, 26, 13, 5, 9)
BOS, EOS = "<s>", "</s>"


class GenerationTracker(jinja2.ext.Extension):
    """transformers' AssistantTracker without the tracking: {% generation %}
    renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return NOW.strftime(fmt)


ENV = jinja2.sandbox.ImmutableSandboxedEnvironment(
    trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTracker, jinja2.ext.loopcontrols])
ENV.filters["tojson"] = tojson
ENV.globals["raise_exception"] = raise_exception
ENV.globals["strftime_now"] = strftime_now


def msg(role, content):
    return {"role": role, "content": content}


TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "Its name"}},
            "required": ["city"],
        },
    },
}]

# The conversations every template is rendered on. Contents are strings
# only, as goformer's chat.Message holds them.
CONVERSATIONS = {
    "system_user": {"messages": [msg("system", "You are a helpful assistant."), msg("user", "What is 2 + 2?")],
                    "add_generation_prompt": True},
    "user": {"messages": [msg("user", "Hello!")], "add_generation_prompt": True},
    "multi_turn": {"messages": [msg("system", "Be brief."), msg("user", "2 + 2?"), msg("assistant", "4."),
                                msg("user", "And 3 + 3?"), msg("assistant", "6.")],
                   "add_generation_prompt": False},
    "llamacpp": {"messages": [msg("system", "You are a helpful assistant"), msg("user", "Hello"),
                              msg("assistant", "Hi there"), msg("user", "Who are you"),
                              msg("assistant", "   I am an assistant   "), msg("user", "Another question")],
                 "add_generation_prompt": True},
    "awkward": {"messages": [msg("user", "  {{ not a tag }} {% raw %} ünïcødé 🦙 \"quotes\" 'and' \\ back\n\n\ttabs  "),
                             msg("assistant", "<s>looks special</s>\n"), msg("user", "")],
                "add_generation_prompt": True},
    "tools": {"messages": [msg("user", "What is the weather in Paris?")], "tools": TOOLS,
              "add_generation_prompt": True},
}


# Whitespace control: lstrip_blocks, trim_blocks and the - and + markers
# next to text, expressions, other tags and line ends; raw blocks; line
# endings and the trailing newline. Rendered with x = "X", items = [1, 2].
WHITESPACE = [
    "a\n  {{ x }}{% if true %}y{% endif %}",
    "{% if true %}{{ x }}\nz{% endif %}",
    "a\n {{ x }} {%- if true %}y{% endif %}",
    "{{ x }}{# c #}\n  {{ x }}{% if true %}{% endif %}",
    "  {% if true %}\n    {{ x }}\n  {% endif %}\n",
    "{% for i in items %}\n  {{ i }}\n{% endfor %}",
    "{% for i in items -%}\n  {{ i }}  \n{%- endfor %}|",
    "{%- for i in items %} {{ i }} {% endfor -%}  \n|",
    "x  {%+ if true %}y{% endif +%}\nz",
    "line\r\n  {% if true %}\r\n{{ x }}\r\n{% endif %}\r\n",
    "a {# comment #}\n  b\n  {# comment #}\nc",
    "{{ x }}\n\n{% if true %}\n\n{% endif %}\n\n",
    "\t {% if true %}t{% endif %}\t \n \t{{ x }}",
    "{% raw %}\n  {{ x }} {%- if %}\n{% endraw %}\nafter",
    "  {%- raw -%}  {{ x }}  {%- endraw -%}  |",
    "{{ x -}}\n  {{- x }}",
    "a\u00a0\n {%- if true %}b{% endif %}",
    "{{ '\\'' }}{{ \"%}\" }}{% set y = '}}' %}{{ y }}",
    "{% macro m(a) %}\n  <{{ a }}>\n{% endmacro %}\n{{ m(1) }}{{ m(2) }}",
    "trailing\n\n",
]


def render_whitespace(source):
    try:
        return {"text": ENV.from_string(source).render(x="X", items=[1, 2])}
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


def render(source, conv, bos=BOS, eos=EOS):
    """The rendering, or the error: {"text": ...} or {"error": ...}."""
    try:
        tmpl = ENV.from_string(source)
        kwargs = dict(messages=conv["messages"], add_generation_prompt=conv["add_generation_prompt"],
                      bos_token=bos, eos_token=eos)
        if "tools" in conv:
            kwargs["tools"] = conv["tools"]
        return {"text": tmpl.render(**kwargs)}
    except TemplateError as e:
        return {"raised": str(e)}
    except Exception as e:  # the template is not valid for jinja2, or fails on this input
        return {"error": f"{type(e).__name__}: {e}"}


# --- llama.cpp's tests/test-chat-template.cpp ---------------------------

CPP_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def cpp_string(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            out.append(CPP_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


STRING = r'"((?:[^"\\]|\\.)*)"'
FIELD = re.compile(r'/\*\s*\.(\w+)=?\s*\*/\s*(?:U8C\(\s*' + STRING + r'\s*\)|' + STRING + r'|(true|false)|(\{\{.*?\}\}))', re.S)


def llamacpp_cases(src):
    """The automated test cases: name, template, expected output (the Jinja
    one where it is given), tokens and extra messages."""
    text = open(os.path.join(src, "tests", "test-chat-template.cpp"), encoding="utf-8").read()
    start = text.index("std::vector<TestCase> test_cases {")
    end = text.index("std::vector<char> formatted_chat", start)
    body = text[start:end]
    conversation = re.search(r"std::vector<llama_chat_message> conversation \{(.*?)\};", text, re.S).group(1)
    base = [msg(cpp_string(r), cpp_string(c)) for r, c in re.findall(r'\{' + STRING + r',\s*' + STRING + r'\}', conversation)]
    cases, case = [], None
    for m in FIELD.finditer(body):
        field = m.group(1)
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if field == "name":
            case = {"name": cpp_string(value), "bos_token": "", "eos_token": "", "supported_with_jinja": True, "extra": []}
            cases.append(case)
        elif field in ("template_str", "expected_output", "expected_output_jinja", "bos_token", "eos_token"):
            case[field] = cpp_string(value)
        elif field == "supported_with_jinja":
            case[field] = m.group(4) == "true"
        elif field == "extra_conversation":
            case["extra"] = [msg(cpp_string(r), cpp_string(c)) for r, c in re.findall(r'\{' + STRING + r',\s*' + STRING + r'\}', m.group(5))]
    out = []
    for c in cases:
        conv = {"messages": base + c["extra"], "add_generation_prompt": True}
        expected = c["expected_output_jinja"] or c["expected_output"]
        out.append({
            "name": c["name"], "template": c["template_str"], "bos_token": c["bos_token"], "eos_token": c["eos_token"],
            "messages": conv["messages"], "add_generation_prompt": True,
            "llamacpp": expected if c["supported_with_jinja"] else None,
            "jinja2": render(c["template_str"], conv, c["bos_token"], c["eos_token"]),
        })
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) == 3 else HERE
    tdir = os.path.join(out_dir, "templates")
    shutil.rmtree(tdir, ignore_errors=True)
    os.makedirs(tdir)
    sources = {}
    for folder in (os.path.join(src, "models", "templates"), os.path.join(HERE, "extra")):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".jinja"):
                sources[name] = open(os.path.join(folder, name), encoding="utf-8").read()
                shutil.copy(os.path.join(folder, name), os.path.join(tdir, name))
    renderings = []
    for name, source in sorted(sources.items()):
        for cname, conv in CONVERSATIONS.items():
            renderings.append({"template": name, "conversation": cname, **render(source, conv)})
    out = {
        "command": "python3 model/chat/testdata/make_renderings.py /tmp/llama-src",
        "jinja2": jinja2.__version__,
        "now": NOW.isoformat(),
        "bos_token": BOS, "eos_token": EOS,
        "conversations": CONVERSATIONS,
        "renderings": renderings,
        "llamacpp_cases": llamacpp_cases(src),
        "whitespace": [{"template": w, **render_whitespace(w)} for w in WHITESPACE],
    }
    with open(os.path.join(out_dir, "renderings.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
