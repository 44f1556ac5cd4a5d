// Package chat renders a model's chat template: the Jinja program, shipped
// with an instruction-tuned model (GGUF's tokenizer.chat_template, Hugging
// Face's chat_template in tokenizer_config.json), that turns a conversation
// into the text the model was trained to continue.
//
// Templates run on github.com/ardanlabs/jinja, a pure-Go Jinja engine
// written for chat templates, in the environment Hugging Face transformers
// gives them (apply_chat_template): trim_blocks and lstrip_blocks, the
// variables messages, add_generation_prompt, bos_token, eos_token and tools,
// and the functions raise_exception and strftime_now. The tests compare the
// renderings of llama.cpp's collection of real templates with Python
// jinja2's, and with llama.cpp's own expectations.
//
// The rendered text holds the special tokens as text ("<|im_start|>"); it is
// tokenized with those parsed (tokenizer.Tokenizer.EncodeChat).
//
// This package imports only the standard library and the Jinja engine; it
// must never import runtime, kernels or cmd.
package chat
