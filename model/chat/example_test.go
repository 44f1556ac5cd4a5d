package chat_test

import (
	"fmt"

	"github.com/goformer/goformer/model/chat"
)

func Example() {
	// A model's chat template, as its tokenizer_config.json or GGUF file
	// holds it (this one is ChatML's).
	const src = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" +
		"{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
	tmpl, err := chat.Parse(src, chat.Specials{BOS: "<|endoftext|>", EOS: "<|im_end|>"})
	if err != nil {
		panic(err)
	}
	text, err := tmpl.Render([]chat.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "What is 2 + 2?"},
	}, true)
	if err != nil {
		panic(err)
	}
	fmt.Print(text)
	// Output:
	// <|im_start|>system
	// Be brief.<|im_end|>
	// <|im_start|>user
	// What is 2 + 2?<|im_end|>
	// <|im_start|>assistant
}
