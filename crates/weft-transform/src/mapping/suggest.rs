//! "Did you mean …?" for misspelt field and cast names.

/// ` (did you mean x?)` when a name is close to `wanted`.
pub(super) fn suggestion(wanted: &str, names: &[&str]) -> String {
    closest(wanted, names)
        .map(|c| format!(" (did you mean {c}?)"))
        .unwrap_or_default()
}

/// The name closest to `wanted` by edit distance, if close enough to be a typo.
pub(super) fn closest<'n>(wanted: &str, names: &[&'n str]) -> Option<&'n str> {
    let len = wanted.chars().count();
    let limit = if len <= 3 { 1 } else { (len / 3).max(2) };
    names
        .iter()
        .map(|n| (edit_distance(wanted, n), *n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance, by characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
