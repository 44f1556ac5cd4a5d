package runtime

// newQ8Table: placeholder until quant lands (keeps fp32).
func newQ8Table(w []float32, rows, d int) tokenTable { return &f32Table{w: w, rows: rows, d: d} }
