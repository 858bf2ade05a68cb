package recordcodec

// maxStrings is the most entries a string table takes: strings met after
// it is full are written out each time.
const maxStrings = 1 << 16

// smallTable is the size up to which a table is searched linearly: the
// table of one journal value holds a handful of strings, and a map for
// those would cost more than it saves.
const smallTable = 8

// table is the string table of one value or one stream, on either side:
// the strings met so far, each at the position it was first met.
type table struct {
	list  []string
	index map[string]uint64 // string → position+1; built once list outgrows smallTable
}

// lookup returns the position+1 of s, or 0 when the table does not hold it.
func (t *table) lookup(s string) uint64 {
	if t.index != nil {
		return t.index[s]
	}
	for i, x := range t.list {
		if x == s {
			return uint64(i) + 1
		}
	}
	return 0
}

// add appends s, which the table does not hold, unless the table is full.
func (t *table) add(s string) {
	if len(t.list) >= maxStrings {
		return
	}
	t.list = append(t.list, s)
	switch {
	case t.index != nil:
		t.index[s] = uint64(len(t.list))
	case len(t.list) > smallTable:
		t.index = make(map[string]uint64, 2*len(t.list))
		for i, x := range t.list {
			t.index[x] = uint64(i) + 1
		}
	}
}

// full reports whether the table takes no more strings.
func (t *table) full() bool { return len(t.list) >= maxStrings }
