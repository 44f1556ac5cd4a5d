// llamacpp_tokenize: llama.cpp's tokenizer on many strings in one process,
// for goformer's tests and benchmarks (llama-tokenize loads the vocabulary
// again for every string, ~1-3 s each). It links the native build's
// libllama; goformer itself has no cgo.
//
//	g++ -O2 -std=c++17 -o llamacpp_tokenize bench/llamacpp_tokenize.cpp \
//	    -I$SRC/include -I$SRC/ggml/include -L$BIN -lllama -Wl,-rpath,$BIN
//
//	llamacpp_tokenize VOCAB.gguf ids IN OUT   # IN: records "LEN\n" + LEN bytes; OUT: a line of ids per record
//	llamacpp_tokenize VOCAB.gguf eog          # the ids llama_vocab_is_eog accepts, one line
//	llamacpp_tokenize VOCAB.gguf fim          # the FIM prefix, suffix, middle, pad, repo and separator ids (-1: none), one line
//	llamacpp_tokenize VOCAB.gguf bench FILE REPS  # tokenizes FILE REPS times; prints JSON timings
//
// Every mode tokenizes as tests/test-tokenizer-0.cpp does: no BOS or EOS
// added, special tokens' text not parsed.
#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static void quiet(ggml_log_level, const char *, void *) {}

static std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text) {
    std::vector<llama_token> ids(text.size() + 8);
    int n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), false, false);
    if (n < 0) {
        ids.resize(-n);
        n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), false, false);
    }
    if (n < 0) {
        fprintf(stderr, "llama_tokenize failed on a %zu-byte text\n", text.size());
        exit(1);
    }
    ids.resize(n);
    return ids;
}

static std::string slurp(const char * path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s VOCAB.gguf ids IN OUT | eog | fim | bench FILE REPS\n", argv[0]);
        return 2;
    }
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::string mode = argv[2];
    if (mode == "eog") {
        bool first = true;
        for (llama_token id = 0; id < llama_vocab_n_tokens(vocab); id++) {
            if (llama_vocab_is_eog(vocab, id)) {
                printf(first ? "%d" : " %d", id);
                first = false;
            }
        }
        printf("\n");
    } else if (mode == "fim") {
        printf("%d %d %d %d %d %d\n", llama_vocab_fim_pre(vocab), llama_vocab_fim_suf(vocab), llama_vocab_fim_mid(vocab),
               llama_vocab_fim_pad(vocab), llama_vocab_fim_rep(vocab), llama_vocab_fim_sep(vocab));
    } else if (mode == "ids" && argc == 5) {
        std::string in = slurp(argv[3]);
        FILE * out = fopen(argv[4], "wb");
        if (!out) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
            return 1;
        }
        size_t pos = 0;
        while (pos < in.size()) {
            size_t nl = in.find('\n', pos);
            if (nl == std::string::npos) {
                fprintf(stderr, "%s: a record without its length line at byte %zu\n", argv[3], pos);
                return 1;
            }
            size_t len = strtoull(in.c_str() + pos, nullptr, 10);
            pos = nl + 1;
            if (pos + len > in.size()) {
                fprintf(stderr, "%s: a record runs past the end at byte %zu\n", argv[3], pos);
                return 1;
            }
            std::vector<llama_token> ids = tokenize(vocab, in.substr(pos, len));
            pos += len;
            for (size_t i = 0; i < ids.size(); i++) {
                fprintf(out, i ? " %d" : "%d", ids[i]);
            }
            fputc('\n', out);
        }
        fclose(out);
    } else if (mode == "bench" && argc == 5) {
        std::string text = slurp(argv[3]);
        int reps = atoi(argv[4]);
        tokenize(vocab, text); // warm-up
        double best = 1e30, total = 0;
        size_t n = 0;
        for (int r = 0; r < reps; r++) {
            auto t0 = std::chrono::steady_clock::now();
            n = tokenize(vocab, text).size();
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            total += s;
            if (s < best) {
                best = s;
            }
        }
        printf("{\"bytes\": %zu, \"tokens\": %zu, \"reps\": %d, \"best_s\": %.6f, \"mean_s\": %.6f}\n",
               text.size(), n, reps, best, total / reps);
    } else {
        fprintf(stderr, "unknown mode or arguments: %s\n", mode.c_str());
        return 2;
    }
    llama_model_free(model);
    return 0;
}
