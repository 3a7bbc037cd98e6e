package tags

// Ranker ranks tags by their position in a best-first list: the lookup table
// a resolver uses to pick the best wheel of a release. Build it once per
// target; it is read-only afterwards and safe for concurrent use.
type Ranker struct {
	rank map[Tag]int
	tags []Tag
}

// NewRanker builds a Ranker from a best-first list. A tag listed twice keeps
// its first (best) rank, as packaging's create_compatible_tags_selector does.
func NewRanker(ordered []Tag) *Ranker {
	r := &Ranker{rank: make(map[Tag]int, len(ordered)), tags: ordered}
	for i, t := range ordered {
		if _, dup := r.rank[t]; !dup {
			r.rank[t] = i
		}
	}
	return r
}

// Tags returns the list the Ranker was built from (do not modify it).
func (r *Ranker) Tags() []Tag { return r.tags }

// Rank returns tag's rank (0 = best) and whether it is supported at all.
func (r *Ranker) Rank(t Tag) (int, bool) {
	n, ok := r.rank[t]
	return n, ok
}

// Best returns the best rank among ts, and false when none is supported.
func (r *Ranker) Best(ts []Tag) (int, bool) {
	best, found := 0, false
	for _, t := range ts {
		if n, ok := r.rank[t]; ok && (!found || n < best) {
			best, found = n, true
		}
	}
	return best, found
}
