/** Raw PCIe link rates from generation and width (PCI-SIG: 8/16/32 GT/s per lane for Gen3/4/5, 128b/130b). */
const GT_PER_LANE: Record<number, number> = { 3: 8e9, 4: 16e9, 5: 32e9 };

export const MODELLED_PCIE_GENERATIONS = Object.keys(GT_PER_LANE).map(Number);

/** Raw bandwidth per direction in bytes/s, or null for a generation neox-sim does not model. */
export function pcieRawBandwidth(generation: number, lanes: number): number | null {
  const gt = GT_PER_LANE[generation];
  return gt === undefined ? null : (gt * lanes * 128) / 130 / 8;
}
