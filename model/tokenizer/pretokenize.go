package tokenizer

// pieceEnd returns the end of the piece that starts at s[i], cutting text the
// way GPT-2's pattern does:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// The alternatives are tried in order and the first that matches wins; Go's
// regexp has no lookahead, hence the hand-written scanner.
func pieceEnd(s string, i int, bmp *[0x10000]charClass) int {
	n := len(s)
	if s[i] == '\'' && i+1 < n {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	start := i
	class, size := classAt(s, i, bmp)
	if s[i] == ' ' && i+1 < n {
		// " ?X+": a single ASCII space joins the run that follows it.
		if next, nextSize := classAt(s, i+1, bmp); next != classSpace {
			class, size = next, nextSize
			i++
		}
	}
	if class != classSpace {
		for i += size; i < n; i += size {
			var c charClass
			if c, size = classAt(s, i, bmp); c != class {
				break
			}
		}
		return i
	}
	// \s+(?!\S) takes a whitespace run up to the end of text, or all of it
	// but its last character when a non-space follows, so that character can
	// lead the next piece (" word"). A lone whitespace character before a
	// non-space falls to \s+.
	last := i
	for i += size; i < n; i += size {
		var c charClass
		if c, size = classAt(s, i, bmp); c != classSpace {
			break
		}
		last = i
	}
	if i < n && last > start {
		return last
	}
	return i
}
