package server

import "strings"

// stopMatcher finds a request's stop strings in its text as the text comes,
// piece by piece, so that a stop string split across tokens is found too.
// Text that might be the start of a stop string is held back until the
// next pieces show it is not; a stop string found is never released, nor
// anything after it.
type stopMatcher struct {
	stops []string
	held  string // released by the decoder, not yet by the matcher
}

// add takes the next piece of text and returns what can be released. When
// stopped, a stop string began right after out and the text ends there.
func (m *stopMatcher) add(piece string) (out string, stopped bool) {
	if len(m.stops) == 0 {
		return piece, false
	}
	buf := m.held + piece
	first := -1
	for _, s := range m.stops {
		if i := strings.Index(buf, s); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		m.held = ""
		return buf[:first], true
	}
	keep := m.prefixLen(buf)
	m.held = buf[len(buf)-keep:]
	return buf[:len(buf)-keep], false
}

// holding reports whether the matcher holds text back.
func (m *stopMatcher) holding() bool { return m.held != "" }

// flush releases what is held back: the text ended without a stop string.
func (m *stopMatcher) flush() string {
	out := m.held
	m.held = ""
	return out
}

// prefixLen is the length of the longest end of buf that is the start of a
// stop string (shorter than it: a whole one would have been found). Stop
// strings are whole UTF-8 characters and so is buf, so the cut falls
// between characters.
func (m *stopMatcher) prefixLen(buf string) int {
	longest := 0
	for _, s := range m.stops {
		longest = max(longest, len(s)-1)
	}
	for k := min(longest, len(buf)); k > 0; k-- {
		tail := buf[len(buf)-k:]
		for _, s := range m.stops {
			if strings.HasPrefix(s, tail) {
				return k
			}
		}
	}
	return 0
}
