/** A DNS-1123 label, as Kubernetes and Argo want names: at most 63 of `a-z`, `0-9`, `-`. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/

/**
 * Gives names that are DNS-1123 labels starting with a letter (Argo reads task names in
 * expressions, where a leading digit is not a name), each unique: `Prep_0` becomes
 * `prep-0`, and a second `prep-0` becomes `prep-0-2`.
 */
export class NameBook {
  private readonly taken = new Set<string>()

  /** A new unique label made from `text`. */
  name(text: string): string {
    let base = text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '')
    if (!/^[a-z]/.test(base)) base = `x-${base}`.replace(/-$/, '')
    base = base.slice(0, 63).replace(/-$/, '')
    let name = base
    for (let n = 2; this.taken.has(name); n++) {
      const suffix = `-${n}`
      name = `${base.slice(0, 63 - suffix.length).replace(/-$/, '')}${suffix}`
    }
    this.taken.add(name)
    return name
  }
}
