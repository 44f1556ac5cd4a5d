package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/goformer/goformer/model/tokenizer"
)

func Example() {
	tok, err := tokenizer.LoadDir("testdata") // GPT-2's vocab.json and merges.txt
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Hello world, it's 2024!")
	fmt.Println(ids)
	text, err := tok.Decode(ids)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(text)
	// Output:
	// [15496 995 11 340 338 48609 0]
	// Hello world, it's 2024!
}

func ExampleTokenizer_EncodeSpecial() {
	tok, err := tokenizer.LoadDir("testdata")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Encode("<|endoftext|>"))
	fmt.Println(tok.EncodeSpecial("<|endoftext|>"))
	// Output:
	// [27 91 437 1659 5239 91 29]
	// [50256]
}

func ExampleStreamDecoder() {
	tok, err := tokenizer.LoadDir("testdata")
	if err != nil {
		log.Fatal(err)
	}
	dec := tok.NewStreamDecoder()
	for _, id := range tok.Encode("Pizza 🍕!") {
		text, err := dec.Add(id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d -> %q\n", id, text)
	}
	fmt.Printf("rest %q\n", dec.Flush())
	// Output:
	// 47 -> "P"
	// 9990 -> "izza"
	// 12520 -> " "
	// 235 -> ""
	// 243 -> "🍕"
	// 0 -> "!"
	// rest ""
}
