package resolve

import "math/bits"

// bitset is a set of version indices of one package. Every set of the same
// package has the same length (one bit per version of the package's domain),
// so the set operations need no size checks. Sets are never mutated after
// they are built: operations return new sets.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// fullBitset returns the set of indices 0..n-1.
func fullBitset(n int) bitset {
	b := newBitset(n)
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		b[len(b)-1] = (uint64(1) << r) - 1
	}
	return b
}

func singleBit(n, i int) bitset {
	b := newBitset(n)
	b[i/64] |= 1 << (i % 64)
	return b
}

func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b bitset) and(o bitset) bitset {
	r := make(bitset, len(b))
	for i := range b {
		r[i] = b[i] & o[i]
	}
	return r
}

func (b bitset) or(o bitset) bitset {
	r := make(bitset, len(b))
	for i := range b {
		r[i] = b[i] | o[i]
	}
	return r
}

func (b bitset) andNot(o bitset) bitset {
	r := make(bitset, len(b))
	for i := range b {
		r[i] = b[i] &^ o[i]
	}
	return r
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

func (b bitset) equal(o bitset) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// highest returns the highest index in the set, or -1.
func (b bitset) highest() int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return i*64 + 63 - bits.LeadingZeros64(b[i])
		}
	}
	return -1
}

// each calls f for every index in the set, highest first, until f returns false.
func (b bitset) eachDesc(f func(int) bool) {
	for i := len(b) - 1; i >= 0; i-- {
		w := b[i]
		for w != 0 {
			j := 63 - bits.LeadingZeros64(w)
			if !f(i*64 + j) {
				return
			}
			w &^= 1 << j
		}
	}
}

// disjointWith reports whether b and o share no index (no allocation).
func (b bitset) disjointWith(o bitset) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return false
		}
	}
	return true
}

// within reports whether every index of b is in o (no allocation).
func (b bitset) within(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}
