/** Radix-2 complex FFT (in place, split real/imaginary arrays) and the 2-D passes the NCC search needs. */

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** One FFT length with its bit-reversal permutation and twiddle factors. */
export class Fft {
  private readonly reversed: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(readonly n: number) {
    if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`Fft: length ${n} is not a power of two`);
    const bits = Math.log2(n);
    this.reversed = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
      this.reversed[i] = r;
    }
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** In place along y on columns [0, columns) of a row-major `width`-wide array of n rows. */
  transformColumns(re: Float64Array, im: Float64Array, width: number, inverse = false, columns = width): void {
    transformColumns(this, re, im, width, columns, inverse, this.reversed, this.cos, this.sin);
  }

  /**
   * In place on re[offset + i·stride], i < n. Forward uses e^(−2πik/n); `inverse` uses e^(+2πik/n)
   * and does NOT divide by n (the caller scales once for a whole 2-D transform).
   */
  transform(re: Float64Array, im: Float64Array, inverse = false, offset = 0, stride = 1): void {
    const { n, reversed, cos } = this;
    const sin = this.sin;
    const sign = inverse ? 1 : -1;
    for (let i = 0; i < n; i++) {
      const j = reversed[i];
      if (j > i) {
        const a = offset + i * stride;
        const b = offset + j * stride;
        let t = re[a];
        re[a] = re[b];
        re[b] = t;
        t = im[a];
        im[a] = im[b];
        im[b] = t;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const wr = cos[k * step];
          const wi = sign * sin[k * step];
          const a = offset + (start + k) * stride;
          const b = a + half * stride;
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }
}

/**
 * The transform along y of every column of a row-major width × height array at once: the butterflies
 * combine whole rows, so memory is read contiguously (a strided pass per column thrashes the cache).
 */
function transformColumns(fft: Fft, re: Float64Array, im: Float64Array, width: number, columns: number, inverse: boolean, reversed: Uint32Array, cos: Float64Array, sin: Float64Array): void {
  const n = fft.n;
  const sign = inverse ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const j = reversed[i];
    if (j <= i) continue;
    for (let a = i * width, b = j * width, end = a + columns; a < end; a++, b++) {
      let t = re[a];
      re[a] = re[b];
      re[b] = t;
      t = im[a];
      im[a] = im[b];
      im[b] = t;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        for (let a = (start + k) * width, b = a + half * width, end = a + columns; a < end; a++, b++) {
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }
}

/** A width × height (powers of two) complex 2-D transform, row-major, with optional sparse passes. */
export class Fft2d {
  private readonly rows: Fft;
  private readonly cols: Fft;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rows = new Fft(width);
    this.cols = new Fft(height);
  }

  /** Forward transform of data whose non-zero values all lie in rows [0, nonZeroRows). */
  forward(re: Float64Array, im: Float64Array, nonZeroRows = this.height): void {
    for (let y = 0; y < nonZeroRows; y++) this.rows.transform(re, im, false, y * this.width, 1);
    this.cols.transformColumns(re, im, this.width, false);
  }

  /**
   * Inverse transform, scaled by 1/(width·height). Only columns [0, neededColumns) are finished
   * (rows first, so the column pass can stop there); the other columns hold partial results.
   */
  inverse(re: Float64Array, im: Float64Array, neededColumns = this.width): void {
    for (let y = 0; y < this.height; y++) this.rows.transform(re, im, true, y * this.width, 1);
    this.cols.transformColumns(re, im, this.width, true, neededColumns);
    const scale = 1 / (this.width * this.height);
    for (let y = 0; y < this.height; y++) {
      for (let i = y * this.width, end = i + neededColumns; i < end; i++) {
        re[i] *= scale;
        im[i] *= scale;
      }
    }
  }
}
