package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/goformer/goformer/kernels"
)

// Q8_0BlockBytes is the size of one GGUF Q8_0 block: an fp16 scale
// (little-endian) followed by 32 int8 values.
const Q8_0BlockBytes = 2 + kernels.Q8Block

// FromQ8_0 builds a rows×cols Matrix from GGUF Q8_0 data: rows*cols/32
// blocks of Q8_0BlockBytes in row-major order. The int8 values are kept as
// they are and each fp16 scale widens exactly to float32, so the matrix holds
// precisely the values the file does; nothing is expanded to float32. A
// scale that is NaN or infinite is an error naming its row and block.
func FromQ8_0(blocks []byte, rows, cols int) (*Matrix, error) {
	if err := checkShape(rows, cols); err != nil {
		return nil, err
	}
	nb := rows * cols / kernels.Q8Block
	if len(blocks) != nb*Q8_0BlockBytes {
		return nil, fmt.Errorf("quant: Q8_0 data of %d bytes for a %d×%d matrix, want %d (%d blocks of %d)",
			len(blocks), rows, cols, nb*Q8_0BlockBytes, nb, Q8_0BlockBytes)
	}
	m := newMatrix(rows, cols)
	for b := range nb {
		blk := blocks[b*Q8_0BlockBytes : (b+1)*Q8_0BlockBytes]
		d := kernels.Float16ToFloat32(binary.LittleEndian.Uint16(blk))
		if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
			perRow := cols / kernels.Q8Block
			return nil, fmt.Errorf("quant: Q8_0 block %d of row %d has scale %v", b%perRow, b/perRow, d)
		}
		m.Scales[b] = d
		for i, v := range blk[2:] {
			m.Q[b*kernels.Q8Block+i] = int8(v)
		}
	}
	return m, nil
}
