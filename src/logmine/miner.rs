//! The template miner: one pass over log messages, bounded memory, one configuration.
//!
//! A message is cut into whitespace tokens and each token is masked: the parts of it that hold a digit (numbers,
//! hex ids, IP addresses, versions, times) become `<*>`, keeping the punctuation between them (`<*>:<*>` for an
//! IP address and port, `uid=<*>`), a host name with its port is one `<*>`, and URLs (but their scheme) and
//! absolute paths become `<*>` whole. Most lines then repeat a masked form seen before, and a hash map from
//! masked text to cluster answers them without any search.
//!
//! A new masked form is placed the way Drain places it: the candidates are the clusters with the same number of
//! tokens and the same first token (a prefix tree of depth two, kept as one hash map), and the line joins the
//! candidate whose template agrees with it on the most of the other positions, if that is at least half of them. Two
//! kinds of first token are values, not the event: an address, named or numbered, and a reverse-domain identifier
//! (`com.vendor.sync.agent:`, which becomes `com.vendor.<*>:`); their lines share candidates. Joining turns the
//! positions where they differ into `<*>`; when that makes two templates equal, the clusters merge and the younger
//! id redirects to the older. Tokens that differ only in words (`Started`, `Paused`, `LOGIN(uid=<*>)`) stay apart as
//! a closed set until more than a few are seen. A line that no cluster of its length fits joins the cluster of
//! another length with its loose shape, in which each run of values is one (`lifetime 00:02`, `lifetime <1 sec`). At
//! [`MAX_CLUSTERS`] the rarest clusters are evicted.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::tokens::{Masked, is_domain, is_separator, loose_shape, mask_message, skeleton};

/// The id of a cluster. Ids are never reused; a merged id redirects to the cluster that absorbed it.
pub(crate) type ClusterId = u32;

pub(crate) use super::tokens::WILDCARD;

/// At most this many live clusters: about 50 MB in the worst case (every template [`MAX_MESSAGE`](super::tokens::MAX_MESSAGE) bytes), far
/// more than the few hundred templates a real service logs, so only machine-generated junk gets evicted.
pub(crate) const MAX_CLUSTERS: usize = 50_000;

/// When the cap is reached, this many of the rarest clusters go at once, so eviction costs one partial sort per
/// batch rather than a scan per new line.
const EVICT_BATCH: usize = MAX_CLUSTERS / 16;

/// The messages and masked forms remembered for the fast paths; each map is cleared when it is full.
const MAX_CACHE: usize = 100_000;
/// Messages up to this long are remembered as they are.
const MAX_EXACT: usize = 256;
/// How many lookups of exact messages the repeat rate is measured over.
const WINDOW: u32 = 4096;
/// When lines rarely repeat, one in this many new lines is remembered.
const SAMPLE: u32 = 64;

/// Clusters that differ only in plain words at the same positions (`Task` and `TaskAttempt`, `stored as bytes`
/// and `stored as values`) stay apart up to [`MIN_OPEN`] - 1 words; one more word there and the positions are
/// taken for variables (user names, hosts, packages) and the clusters merge. Capitalised words (`VM Started`,
/// `VM Paused`, `LOOKING`, `FOLLOWING`) are the states and verbs of a closed set more often, and stay apart up
/// to [`MAX_VARIANTS`].
const MIN_OPEN: usize = 4;
const MAX_VARIANTS: usize = 12;

/// FNV-style multiply-xor hashing: the keys are short strings hashed on every line, where the standard hasher's cost shows
/// and its resistance to chosen collisions buys nothing.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            h = (h.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

fn hash_of(bytes: &[u8], len: usize) -> u64 {
    let mut h = FastHasher(len as u64);
    h.write(bytes);
    h.finish()
}

/// One cluster: its template and how many lines it holds.
#[derive(Debug)]
struct Cluster {
    id: ClusterId,
    /// The template tokens joined by single spaces.
    text: String,
    /// Where each token of `text` ends.
    ends: Vec<u32>,
    count: u64,
    /// The candidate list it is in.
    bucket: u64,
}

impl Cluster {
    fn token(&self, k: usize) -> &str {
        let start = if k == 0 {
            0
        } else {
            self.ends[k - 1] as usize + 1
        };
        &self.text[start..self.ends[k] as usize]
    }
}

/// What a cluster id stands for now.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// A live cluster, at this index of the slab.
    Live(u32),
    /// Merged into another cluster.
    Merged(ClusterId),
    Evicted,
}

/// The key of the candidate list of a masked message: its token count and first token.
fn bucket_of(masked: &Masked) -> u64 {
    let first = if masked.ends.is_empty() {
        ""
    } else {
        first_key(masked.token(0))
    };
    hash_of(first.as_bytes(), masked.len())
}

/// The streaming template miner. [`Default`] is the one configuration.
#[derive(Debug, Default)]
pub(crate) struct TemplateMiner {
    /// Live clusters; `None` marks a free slot (listed in `free`).
    slab: Vec<Option<Cluster>>,
    free: Vec<u32>,
    /// Every id ever handed out, by id.
    ids: Vec<Slot>,
    /// Candidate lists: live clusters by token count and first token.
    buckets: FastMap<u64, Vec<ClusterId>>,
    /// Clusters that differ from each other only in plain words at some positions, by the template they would
    /// share: the words may be a closed set (states, verbs) that names different events.
    families: FastMap<u64, Vec<ClusterId>>,
    /// Short messages seen before, by their [`skeleton`], and the cluster they went to: a line that repeats one
    /// seen before but for the values of its numbers (most lines) skips masking.
    exact: FastMap<Box<[u8]>, ClusterId>,
    /// The skeleton of the message at hand.
    key: Vec<u8>,
    /// Lookups in `exact` and hits among them since the window began.
    window: (u32, u32),
    /// Whether few lines repeated in the last window: then only one new line in [`SAMPLE`] is remembered, since
    /// storing every line costs more than the few hits save (and a sample finds the lines that do repeat).
    sparse: bool,
    /// Masked messages seen before, and the cluster they went to.
    cache: FastMap<Box<str>, ClusterId>,
    /// The first cluster of each loose shape (see [`loose_shape`]) that holds a word: a new message of another
    /// length with that shape joins it rather than starting a cluster.
    loose: FastMap<u64, ClusterId>,
    live: usize,
    masked: Masked,
    shape: String,
}

impl TemplateMiner {
    pub(crate) fn new() -> TemplateMiner {
        TemplateMiner::default()
    }

    /// Mines one message (header already removed). Returns its cluster.
    pub(crate) fn add(&mut self, message: &str) -> ClusterId {
        self.add_weighted(message, 1)
    }

    /// Like [`add`](Self::add), counting `weight` occurrences at once. `<*>` tokens in `message` are wildcards.
    pub(crate) fn add_weighted(&mut self, message: &str, weight: u64) -> ClusterId {
        let exact = message.len() <= MAX_EXACT;
        if exact {
            self.window.0 += 1;
            if self.window.0 == WINDOW {
                self.sparse = self.window.1 * 16 < WINDOW;
                self.window = (0, 0);
            }
            skeleton(message, &mut self.key);
            if let Some(&id) = self.exact.get(self.key.as_slice())
                && let Some(live) = self.resolve(id)
            {
                self.window.1 += 1;
                self.cluster_mut(live).count += weight;
                return live;
            }
        }
        let id = self.add_masked(message, weight);
        if exact && (!self.sparse || self.window.0.is_multiple_of(SAMPLE)) {
            if self.exact.len() >= MAX_CACHE {
                self.exact.clear();
            }
            self.exact.insert(self.key.as_slice().into(), id);
        }
        id
    }

    fn add_masked(&mut self, message: &str, weight: u64) -> ClusterId {
        let mut masked = std::mem::take(&mut self.masked);
        mask_message(message, &mut masked);
        let id = self.place(&masked, weight);
        self.masked = masked;
        id
    }

    fn place(&mut self, masked: &Masked, weight: u64) -> ClusterId {
        if let Some(&id) = self.cache.get(masked.text.as_str())
            && let Some(live) = self.resolve(id)
        {
            self.cluster_mut(live).count += weight;
            return live;
        }
        let bucket = bucket_of(masked);
        let id = match self.best_match(masked, bucket) {
            Some(id) => self.join_or_vary(id, masked, weight, bucket),
            None => self.absorb_or_create(masked, weight, bucket),
        };
        if self.cache.len() >= MAX_CACHE {
            self.cache.clear();
        }
        self.cache.insert(masked.text.as_str().into(), id);
        id
    }

    /// The candidate that agrees best with `masked`, if it agrees on at least half of the positions that carry
    /// evidence. A position carries none when the template already has a variable there that the line's token
    /// fits (two masked numbers, a `user=<*>` and a `user=bob`); the first position counts only where it may
    /// differ (see [`first_key`]).
    fn best_match(&self, masked: &Masked, bucket: u64) -> Option<ClusterId> {
        let candidates = self.buckets.get(&bucket)?;
        let n = masked.len();
        let mut best: Option<(usize, usize, ClusterId)> = None;
        for &id in candidates {
            let cluster = self.cluster(id);
            if cluster.ends.len() != n || (n > 0 && !same_first(cluster.token(0), masked.token(0)))
            {
                continue;
            }
            let (mut equal, mut weighed, mut variable) = (0, 0, 0);
            let from = usize::from(n == 0 || cluster.token(0) == masked.token(0));
            for k in from..n {
                let (t, w) = (cluster.token(k), masked.token(k));
                if (t.contains(WILDCARD) && fits(t, w)) || w == WILDCARD || alike(t, w) {
                    variable += 1;
                } else {
                    weighed += 1;
                    equal += usize::from(t == w);
                }
            }
            if 2 * equal < weighed {
                continue;
            }
            // More agreement first; then the template that had to generalise least.
            let better = best.is_none_or(|(e, v, _)| equal > e || (equal == e && variable < v));
            if better {
                best = Some((equal, variable, id));
            }
        }
        best.map(|(_, _, id)| id)
    }

    /// Adds `masked` to the cluster `id` it matched, or, when they differ only in plain words, keeps it as a
    /// variant of its own until the words at those positions prove to be more than a closed set.
    fn join_or_vary(
        &mut self,
        id: ClusterId,
        masked: &Masked,
        weight: u64,
        bucket: u64,
    ) -> ClusterId {
        let cluster = self.cluster(id);
        let mut words_only = true;
        let mut differs = false;
        let mut capitalised = true;
        for k in 0..masked.len() {
            let (t, w) = (cluster.token(k), masked.token(k));
            if !fits(t, w) {
                differs = true;
                words_only &=
                    differ_in_words(t, w) && !(k == 0 && is_identifier(t) && is_identifier(w));
                capitalised &= [t, w]
                    .iter()
                    .all(|x| x.as_bytes().first().is_some_and(u8::is_ascii_uppercase));
            }
        }
        if !differs || !words_only {
            self.join(id, masked, weight);
            return self
                .resolve(id)
                .expect("a cluster that was just joined is live");
        }
        let (general, ends) = generalised(cluster, masked);
        let family = hash_of(general.as_bytes(), ends.len());
        let mut members = self.families.remove(&family).unwrap_or_default();
        members.retain(|&m| self.resolve(m) == Some(m));
        if !members.contains(&id) {
            members.push(id);
        }
        if !Self::open_set(&members, capitalised) {
            let variant = self.create(masked, weight, bucket);
            members.push(variant);
            if self.families.len() >= MAX_CLUSTERS {
                self.families.clear();
            }
            self.families.insert(family, members);
            return variant;
        }
        // One word too many for a closed set: those positions are variables, and the variants one cluster.
        self.join(id, masked, weight);
        for other in members {
            if let (Some(a), Some(b)) = (self.resolve(id), self.resolve(other))
                && a != b
            {
                self.merge(a, b);
            }
        }
        let live = self
            .resolve(id)
            .expect("a cluster that was just joined is live");
        let cluster = self.cluster_mut(live);
        cluster.text = general;
        cluster.ends = ends;
        live
    }

    /// Whether the variants `members` of one template, with a new one about to join, are an open set of words.
    fn open_set(members: &[ClusterId], capitalised: bool) -> bool {
        let words = members.len() + 1;
        words
            > if capitalised {
                MAX_VARIANTS
            } else {
                MIN_OPEN - 1
            }
    }

    /// Adds `masked` to cluster `id`, generalising its template, and merges it with a twin it now equals.
    fn join(&mut self, id: ClusterId, masked: &Masked, weight: u64) {
        let cluster = self.cluster(id);
        let n = masked.len();
        let differs = (0..n).any(|k| !fits(cluster.token(k), masked.token(k)));
        if !differs {
            self.cluster_mut(id).count += weight;
            return;
        }
        let (text, ends) = generalised(cluster, masked);
        let bucket = cluster.bucket;
        let twin = self.buckets[&bucket]
            .iter()
            .copied()
            .find(|&other| other != id && self.cluster(other).text == text);
        let cluster = self.cluster_mut(id);
        cluster.text = text;
        cluster.ends = ends;
        cluster.count += weight;
        if let Some(twin) = twin {
            self.merge(id, twin);
        }
    }

    /// Merges two clusters with equal templates: the younger id redirects to the older.
    fn merge(&mut self, a: ClusterId, b: ClusterId) {
        let (keep, gone) = if a < b { (a, b) } else { (b, a) };
        let Slot::Live(slot) = self.ids[gone as usize] else {
            unreachable!("only live clusters merge")
        };
        let absorbed = self.slab[slot as usize].take().expect("a live slot");
        self.free.push(slot);
        self.live -= 1;
        self.ids[gone as usize] = Slot::Merged(keep);
        self.cluster_mut(keep).count += absorbed.count;
        self.unlist(absorbed.bucket, gone);
    }

    /// A message no cluster of its length fits joins the cluster of another length whose values merely took
    /// another number of tokens (`lifetime 00:02` and `lifetime <1 sec`), or starts a cluster.
    fn absorb_or_create(&mut self, masked: &Masked, weight: u64, bucket: u64) -> ClusterId {
        let mut shape = std::mem::take(&mut self.shape);
        let words = loose_shape(masked, &mut shape);
        let key = hash_of(shape.as_bytes(), 0);
        self.shape = shape;
        if !words {
            return self.create(masked, weight, bucket);
        }
        if let Some(&id) = self.loose.get(&key)
            && let Some(live) = self.resolve(id)
            && self.cluster(live).ends.len() != masked.len()
        {
            self.cluster_mut(live).count += weight;
            return live;
        }
        let id = self.create(masked, weight, bucket);
        if self.loose.len() >= MAX_CLUSTERS {
            self.loose.clear();
        }
        self.loose
            .entry(key)
            .and_modify(|old| {
                if self
                    .ids
                    .get(*old as usize)
                    .is_none_or(|s| matches!(s, Slot::Evicted))
                {
                    *old = id;
                }
            })
            .or_insert(id);
        id
    }

    fn create(&mut self, masked: &Masked, weight: u64, bucket: u64) -> ClusterId {
        if self.live >= MAX_CLUSTERS {
            self.evict();
        }
        let id = ClusterId::try_from(self.ids.len()).expect("fewer than 2^32 clusters");
        let cluster = Cluster {
            id,
            text: masked.text.clone(),
            ends: masked.ends.clone(),
            count: weight,
            bucket,
        };
        let slot = if let Some(slot) = self.free.pop() {
            self.slab[slot as usize] = Some(cluster);
            slot
        } else {
            self.slab.push(Some(cluster));
            u32::try_from(self.slab.len() - 1).expect("at most MAX_CLUSTERS slots")
        };
        self.ids.push(Slot::Live(slot));
        self.buckets.entry(bucket).or_default().push(id);
        self.live += 1;
        id
    }

    /// Evicts the [`EVICT_BATCH`] rarest clusters (the oldest first among equals, so new lines get a chance).
    fn evict(&mut self) {
        let mut order: Vec<(u64, ClusterId)> = self
            .slab
            .iter()
            .flatten()
            .map(|c| (c.count, c.id))
            .collect();
        let batch = EVICT_BATCH.min(order.len());
        if batch == 0 {
            return;
        }
        order.select_nth_unstable(batch - 1);
        for &(_, id) in &order[..batch] {
            let Slot::Live(slot) = self.ids[id as usize] else {
                continue;
            };
            let cluster = self.slab[slot as usize].take().expect("a live slot");
            self.free.push(slot);
            self.live -= 1;
            self.ids[id as usize] = Slot::Evicted;
            self.unlist(cluster.bucket, id);
        }
        // Entries of evicted clusters would only miss; drop them to bound the maps.
        let ids = &self.ids;
        self.cache
            .retain(|_, id| matches!(ids[*id as usize], Slot::Live(_) | Slot::Merged(_)));
        self.exact
            .retain(|_, id| matches!(ids[*id as usize], Slot::Live(_) | Slot::Merged(_)));
    }

    fn unlist(&mut self, bucket: u64, id: ClusterId) {
        if let Some(list) = self.buckets.get_mut(&bucket) {
            list.retain(|&c| c != id);
            if list.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
    }

    /// A cluster id after merges point it elsewhere (or itself). Evicted: `None`.
    pub(crate) fn resolve(&self, mut id: ClusterId) -> Option<ClusterId> {
        loop {
            match *self.ids.get(id as usize)? {
                Slot::Live(_) => return Some(id),
                Slot::Merged(to) => id = to,
                Slot::Evicted => return None,
            }
        }
    }

    fn cluster(&self, id: ClusterId) -> &Cluster {
        let Slot::Live(slot) = self.ids[id as usize] else {
            panic!("cluster {id} is not live")
        };
        self.slab[slot as usize].as_ref().expect("a live slot")
    }

    fn cluster_mut(&mut self, id: ClusterId) -> &mut Cluster {
        let Slot::Live(slot) = self.ids[id as usize] else {
            panic!("cluster {id} is not live")
        };
        self.slab[slot as usize].as_mut().expect("a live slot")
    }

    /// The current template of the cluster `id` stands for: tokens joined by single spaces, `<*>` for variables.
    /// Empty for an evicted cluster.
    pub(crate) fn template(&self, id: ClusterId) -> &str {
        self.resolve(id).map_or("", |live| &self.cluster(live).text)
    }

    /// How many lines the cluster `id` stands for holds; 0 for an evicted cluster.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the `logs` step will rank templates by it")
    )]
    pub(crate) fn count(&self, id: ClusterId) -> u64 {
        self.resolve(id).map_or(0, |live| self.cluster(live).count)
    }

    /// The live clusters.
    pub(crate) fn clusters(&self) -> impl Iterator<Item = ClusterId> + '_ {
        self.slab.iter().flatten().map(|c| c.id)
    }

    /// How many ids have been handed out (live, merged or evicted).
    pub(crate) fn ids_issued(&self) -> usize {
        self.ids.len()
    }
}

/// The template of `cluster` widened to fit `masked` (of the same length).
fn generalised(cluster: &Cluster, masked: &Masked) -> (String, Vec<u32>) {
    let mut text = String::with_capacity(cluster.text.len());
    let mut ends = Vec::with_capacity(masked.len());
    for k in 0..masked.len() {
        let (t, w) = (cluster.token(k), masked.token(k));
        if k > 0 {
            text.push(' ');
        }
        if fits(t, w) {
            text.push_str(t);
        } else if w == WILDCARD {
            // A whole variable where the template has a word (`<none>`): the word was a value too.
            text.push_str(WILDCARD);
        } else {
            generalise(t, w, &mut text);
        }
        ends.push(u32::try_from(text.len()).expect("templates are short"));
    }
    (text, ends)
}

/// Whether a token is one variable, or variables joined by `:`, `.` or `/` only (`<*>:<*>`, `<*>/<*>:<*>`): an
/// address, which one event may write as a host with a port or as a name alone.
fn is_address(token: &str) -> bool {
    token.starts_with(WILDCARD)
        && token
            .split(WILDCARD)
            .all(|between| between.bytes().all(|b| matches!(b, b':' | b'.' | b'/')))
}

/// What of a first token chooses a message's candidates: the token, but `<*>` for any address and the first
/// label for a dotted identifier (`com.` for `com.vendor.sync.agent:`), which names the service that logs as a
/// value would.
fn first_key(token: &str) -> &str {
    if is_address(token) {
        WILDCARD
    } else if is_identifier(token) {
        &token[..=token.find('.').expect("a dotted identifier")]
    } else {
        token
    }
}

/// Whether a cluster's first token `t` and a line's `w` let the line be a candidate.
fn same_first(t: &str, w: &str) -> bool {
    t == w || first_key(t) == first_key(w) || t.contains(WILDCARD) && fits(t, w)
}

/// A reverse-domain identifier of three labels or more (`com.vendor.sync.agent:`, `com.vendor.<*>:`), as bundles
/// and services are named. A class that names an exception or an error (`org.vendor.BadStateException:`) is the
/// event itself, not one, and a dotted key (`mapred.task.id`) is a word.
fn is_identifier(token: &str) -> bool {
    let name = token.strip_suffix(':').unwrap_or(token);
    let mut labels = name.split('.');
    let Some(first) = labels.next() else {
        return false;
    };
    let mut count = 1;
    for label in labels {
        let ok = label == WILDCARD
            || !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return false;
        }
        count += 1;
    }
    count >= 3 && is_domain(first) && !name.ends_with("Exception") && !name.ends_with("Error")
}

/// Whether two tokens that both hold a variable are one variable with its punctuation (`libc6:<*>` and
/// `zlib1g:<*>`): they share what follows a separator and differ before it only in names that hold a digit,
/// which masking keeps as words (`ssh2`) until they vary like this.
fn alike(t: &str, w: &str) -> bool {
    if !t.contains(WILDCARD) || !w.contains(WILDCARD) {
        return false;
    }
    let mut g = String::new();
    generalise(t, w, &mut g);
    let Some(suffix) = g.strip_prefix(WILDCARD).filter(|s| !s.is_empty()) else {
        return false;
    };
    let digit = |x: &str| {
        x.get(..x.len().saturating_sub(suffix.len()))
            .is_some_and(|head| head.bytes().any(|b| b.is_ascii_digit()))
    };
    digit(t) && digit(w)
}

/// How many bytes `a` and `b` share at their start.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(p, q)| p == q).count()
}

/// How many bytes `a` and `b` share at their end, leaving their first `from` bytes alone.
fn common_suffix(a: &[u8], b: &[u8], from: usize) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take(a.len().min(b.len()) - from)
        .take_while(|(p, q)| p == q)
        .count()
}

/// Whether two tokens differ only in plain words: whole words (`Started`, `Paused`), or words glued to the same
/// variable (`(uid=<*>)` and `LOGIN(uid=<*>)`). Those may be a closed set that names different events.
fn differ_in_words(template: &str, token: &str) -> bool {
    if !template.contains(WILDCARD) && !token.contains(WILDCARD) {
        return true;
    }
    let (a, b) = (template.as_bytes(), token.as_bytes());
    let prefix = common_prefix(a, b);
    let suffix = common_suffix(a, b, prefix);
    let word = |middle: &[u8]| middle.iter().all(u8::is_ascii_alphabetic);
    let (left, right) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    word(left) && word(right) && left.len() + right.len() > 0
}

/// Whether `token` fits the template token `pattern`, where each `<*>` stands for any text.
fn fits(pattern: &str, token: &str) -> bool {
    if pattern == token {
        return true;
    }
    let mut pieces = pattern.split(WILDCARD);
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = token.strip_prefix(first) else {
        return false;
    };
    let mut pieces: Vec<&str> = pieces.collect();
    let Some(last) = pieces.pop() else {
        return false;
    };
    for piece in pieces {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Appends the template token covering both `a` and `b`: what they share up to a separator at the start and
/// from a separator at the end stays (`user=root` and `user=guest` give `user=<*>`), the middle is `<*>`. A
/// shared dotted name of two labels or more stays too (`com.vendor.<*>`), not a lone top label (`com.`).
fn generalise(a: &str, b: &str, out: &mut String) {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let shared = &x[..common_prefix(x, y)];
    let mut prefix = shared
        .iter()
        .rposition(|&c| is_separator(c))
        .map_or(0, |p| p + 1);
    let name = &shared[prefix..];
    if memchr::memchr_iter(b'.', name).count() >= 2 {
        prefix += name.iter().rposition(|&c| c == b'.').expect("a dot") + 1;
    }
    let common = common_suffix(x, y, prefix);
    let suffix = x[x.len() - common..]
        .iter()
        .position(|&c| is_separator(c))
        .map_or(0, |p| common - p);
    // A variable kept at either end absorbs the new one: `<*>.gz`, not `<*><*>.gz`.
    let (head, tail) = (&a[..prefix], &a[a.len() - suffix..]);
    out.push_str(head);
    if !head.ends_with(WILDCARD) && !tail.starts_with(WILDCARD) {
        out.push_str(WILDCARD);
    }
    out.push_str(tail);
}

#[cfg(test)]
mod tests {
    use super::super::tokens::MAX_MESSAGE;
    use super::*;

    #[test]
    fn lines_differing_in_a_masked_token_share_a_template() {
        let mut m = TemplateMiner::new();
        let a = m.add("Accepted password for root from 173.234.31.186 port 22 ssh2");
        let b = m.add("Accepted password for root from 10.0.0.1 port 4242 ssh2");
        assert_eq!(m.resolve(b), Some(a));
        assert_eq!(
            m.template(a),
            "Accepted password for root from <*> port <*> ssh2"
        );
        assert_eq!(m.count(a), 2);
    }

    #[test]
    fn words_that_vary_merge_once_they_are_more_than_a_closed_set() {
        let mut m = TemplateMiner::new();
        let mut add = |peer: &str| m.add(&format!("Lost peer {peer} from 10.0.0.1"));
        let mut ids: Vec<ClusterId> = ["webmaster", "admin", "test"].map(&mut add).to_vec();
        // Up to MIN_OPEN - 1 words could be a closed set (states, verbs): separate clusters so far.
        assert_eq!(MIN_OPEN, 4);
        assert_eq!(m.template(ids[0]), "Lost peer webmaster from <*>");
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
        assert_eq!(m.clusters().count(), 3);
        ids.push(m.add("Lost peer oracle from 10.0.0.9"));
        ids.push(m.add("Lost peer guest from 10.0.0.7"));
        // The fourth word shows a variable: the variants merge into the oldest, and their ids redirect.
        let merged = m.resolve(ids[3]).unwrap();
        assert_eq!(merged, ids[0]);
        for &id in &ids {
            assert_eq!(m.resolve(id), Some(merged));
            assert_eq!(m.template(id), "Lost peer <*> from <*>");
        }
        assert_eq!(m.count(merged), 5);
        assert_eq!(m.clusters().count(), 1);
    }

    #[test]
    fn a_closed_set_of_words_keeps_its_events_apart() {
        let mut m = TemplateMiner::new();
        let mut ids = Vec::new();
        for i in 0..30 {
            let state = ["LOOKING", "FOLLOWING", "LEADING"][i % 3];
            ids.push(m.add(&format!("Notification: {i} (n.leader), {state} (n.state)")));
        }
        assert_eq!(m.clusters().count(), 3);
        assert_eq!(
            m.template(ids[1]),
            "Notification: <*> (n.leader), FOLLOWING (n.state)"
        );
        assert_eq!(m.count(ids[1]), 10);
    }

    #[test]
    fn capitalised_verbs_are_events_and_lowercase_names_variables() {
        let mut m = TemplateMiner::new();
        let mut verbs = Vec::new();
        let mut packages = Vec::new();
        for i in 0..40 {
            let verb = ["Started", "Paused", "Resumed", "Stopped", "Suspended"][i % 5];
            verbs.push(m.add(&format!(
                "[instance: 4f2a-{i:04}] VM {verb} (Lifecycle Event)"
            )));
            let package = ["libfoo", "libbar", "zlib", "openssl", "curl", "git"][i % 6];
            packages.push(m.add(&format!("status installed {package}:amd64 1.{i}")));
        }
        let distinct = |ids: &[ClusterId]| {
            ids.iter()
                .map(|&id| m.resolve(id).unwrap())
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        assert_eq!(distinct(&verbs), 5);
        assert_eq!(
            m.template(verbs[1]),
            "[instance: <*>] VM Paused (Lifecycle Event)"
        );
        assert_eq!(distinct(&packages), 1);
        assert_eq!(m.template(packages[0]), "status installed <*>:<*> <*>");
    }

    #[test]
    fn a_word_where_the_line_has_a_variable_is_one_too() {
        let mut m = TemplateMiner::new();
        let upgrade = m.add("upgrade libsystemd0:amd64 252.36-1 252.38-1");
        let other = m.add("upgrade libudev1:amd64 252.36-1 252.38-1");
        assert_eq!(m.resolve(other), Some(upgrade));
        assert_eq!(m.template(upgrade), "upgrade <*>:<*> <*> <*>");
        let configure = m.add("configure zlib1g:amd64 1.2 <none>");
        let other = m.add("configure libc6:amd64 20.1-1 20.1-1");
        assert_eq!(m.resolve(other), Some(configure));
        assert_eq!(m.template(configure), "configure <*>:<*> <*> <*>");
        // Words that differ before a shared variable are not one unless they hold digits.
        let illegal = m.add("program interrupt: illegal instruction......0");
        let imprecise = m.add("program interrupt: imprecise exception......0");
        assert_ne!(m.resolve(illegal), m.resolve(imprecise));
    }

    #[test]
    fn an_address_is_one_variable_whether_named_or_numbered() {
        let mut m = TemplateMiner::new();
        let named = m.add("proxy.example.edu:443 open through proxy proxy.example.org:5070 HTTPS");
        let numbered = m.add("10.0.0.1:443 open through proxy proxy.example.org:5070 HTTPS");
        assert_eq!(m.resolve(numbered), Some(named));
        assert_eq!(m.template(named), "<*> open through proxy <*> HTTPS");
        // Numbered first, the template widens when a name comes.
        let mut m = TemplateMiner::new();
        let numbered = m.add("10.0.0.1:443 close, 1209 bytes sent");
        assert_eq!(m.template(numbered), "<*>:<*> close, <*> bytes sent");
        let named = m.add("www.example.com:80 close, 88 bytes sent");
        assert_eq!(m.resolve(named), Some(numbered));
        assert_eq!(m.template(numbered), "<*> close, <*> bytes sent");
        // Addresses alone keep their port, and a word first is no address.
        let served = m.add("10.0.0.2:50010 Served block 7 to /10.0.0.3");
        assert_eq!(m.template(served), "<*>:<*> Served block <*> to <*>");
        let word = m.add("close:80 close, 88 bytes sent");
        assert_ne!(m.resolve(word), m.resolve(numbered));
    }

    #[test]
    fn a_dotted_identifier_first_is_a_value_but_an_exception_is_its_event() {
        let mut m = TemplateMiner::new();
        let sync =
            m.add("com.vendor.sync.agent: told me to run this job in 4411 seconds. Ignoring.");
        let update =
            m.add("com.vendor.Update.Activity: told me to run this job in 28 seconds. Ignoring.");
        assert_eq!(m.resolve(update), Some(sync));
        assert_eq!(
            m.template(sync),
            "com.vendor.<*>: told me to run this job in <*> seconds. Ignoring."
        );
        // Another vendor: the whole name is the value, and later names still join.
        for other in ["com.other.agent:", "com.third.sync.agent:"] {
            let id = m.add(&format!(
                "{other} told me to run this job in 7 seconds. Ignoring."
            ));
            assert_eq!(m.resolve(id), Some(sync));
        }
        assert_eq!(
            m.template(sync),
            "<*>: told me to run this job in <*> seconds. Ignoring."
        );
        let io = m.add("com.vendor.io.ReadException: Connection reset by peer");
        let socket = m.add("com.vendor.net.SocketError: Connection reset by peer");
        assert_ne!(m.resolve(io), m.resolve(socket));
        let tip = m.add("mapred.tip.id is deprecated. Instead, use mapreduce.task.id");
        let task = m.add("mapred.task.id is deprecated. Instead, use mapreduce.task.attempt.id");
        assert_ne!(m.resolve(tip), m.resolve(task));
    }

    #[test]
    fn a_flag_is_a_value_not_a_closed_set_of_words() {
        let mut m = TemplateMiner::new();
        let on = m.add("updateClipping isOverlap:true, getTopPadding=333.0");
        let off = m.add("updateClipping isOverlap:false, getTopPadding=12.5");
        assert_eq!(m.resolve(off), Some(on));
        assert_eq!(
            m.template(on),
            "updateClipping isOverlap:<*>, getTopPadding=<*>"
        );
    }

    #[test]
    fn a_list_of_values_joins_the_single_value_form() {
        let mut m = TemplateMiner::new();
        let one = m.add("10.0.0.1 \"GET /v2/servers HTTP/1.1\" status: 200 len: 1893");
        let two = m.add("10.0.0.1,10.0.0.2 \"GET /v2/flavors HTTP/1.1\" status: 404 len: 12");
        let host = m.add("proxy.example.edu \"GET /v2/images HTTP/1.1\" status: 200 len: 7");
        assert_eq!(m.resolve(two), Some(one));
        assert_eq!(m.resolve(host), Some(one));
        assert_eq!(
            m.template(one),
            "<*> \"GET <*> HTTP/1.1\" status: <*> len: <*>"
        );
    }

    #[test]
    fn values_that_take_more_tokens_keep_their_event() {
        let mut m = TemplateMiner::new();
        let close = |sent: &str, life: &str| {
            format!("a.example.com:443 close, {sent} sent, 9 bytes received, lifetime {life}")
        };
        let first = m.add(&close("1209 bytes", "00:02"));
        for (sent, life) in [
            ("0 bytes", "<1 sec"),
            ("1278 bytes (1.24 KB)", "02:02"),
            ("451 bytes (451 bytes)", "<1 sec"),
        ] {
            let id = m.add(&close(sent, life));
            assert_eq!(m.resolve(id), Some(first), "{sent} / {life}");
        }
        // Words, not values, differ: other events, whatever their length.
        let other = m.add(
            "a.example.com:443 close, 1209 bytes sent, 9 bytes received, lifetime 00:02 by peer",
        );
        assert_ne!(m.resolve(other), Some(first));
        let a =
            m.add("setTodayTotalDetailSteps=1514038530000##7007##548365##8661##12361##27173954");
        let b = m.add("onExtend:1514038530000 14 0 4");
        assert_ne!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn a_word_glued_to_a_variable_is_a_word() {
        let mut m = TemplateMiner::new();
        let plain = m.add("session opened for user root by (uid=0)");
        m.add("session opened for user news by (uid=9)");
        let login = m.add("session opened for user root by LOGIN(uid=0)");
        assert_ne!(m.resolve(login), m.resolve(plain));
        assert_eq!(
            m.template(plain),
            "session opened for user <*> by (uid=<*>)"
        );
        assert!(differ_in_words("(uid=<*>)", "LOGIN(uid=<*>)"));
        assert!(differ_in_words("Started", "Paused"));
        assert!(!differ_in_words("job_<*>", "job_<*>x1"));
        assert!(!differ_in_words("<*>:<*>", "a<*>:<*>b<*>"));
    }

    #[test]
    fn a_variable_next_to_a_variable_is_one() {
        let general = |a: &str, b: &str| {
            let mut out = String::new();
            generalise(a, b, &mut out);
            out
        };
        assert_eq!(general("fakeroot.<*>.gz", "faked.<*>.gz"), "<*>.gz");
        assert_eq!(general("<*>:amd64", "<*>:i386"), "<*>:<*>");
        assert_eq!(general("user=root", "user=guest"), "user=<*>");
    }

    #[test]
    fn different_messages_stay_apart() {
        let mut m = TemplateMiner::new();
        let closed = m.add("Connection closed by 1.2.3.4 [preauth]");
        let accepted = m.add("Accepted password for root from 1.2.3.4 port 22 ssh2");
        let failed = m.add("Failed password for root from 1.2.3.4 port 22 ssh2");
        let looking = m.add("LOOKING");
        let following = m.add("FOLLOWING");
        let ids = [closed, accepted, failed, looking, following].map(|id| m.resolve(id).unwrap());
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 5, "{ids:?}");
        assert_eq!(m.template(looking), "LOOKING");
    }

    #[test]
    fn weighted_input_with_wildcards_counts_at_once() {
        let mut m = TemplateMiner::new();
        let a = m.add_weighted("Payment failed for order <*>", 40);
        let b = m.add_weighted("Payment failed for order <*>", 2);
        let c = m.add("Payment failed for order 7");
        assert_eq!(m.resolve(b), Some(a));
        assert_eq!(m.resolve(c), Some(a));
        assert_eq!(m.count(a), 43);
        assert_eq!(m.template(a), "Payment failed for order <*>");
    }

    #[test]
    fn bad_input_is_mined_not_refused() {
        let mut m = TemplateMiner::new();
        let empty = m.add("");
        assert_eq!(m.template(empty), "");
        let blank = m.add("   ");
        assert_eq!(m.resolve(blank), Some(empty));
        let long = "word ".repeat(200_000);
        let id = m.add(&long);
        assert!(
            m.template(id).len() <= MAX_MESSAGE,
            "the template is bounded"
        );
        // A multi-byte character across the cut.
        let id = m.add(&"é".repeat(MAX_MESSAGE));
        assert!(m.template(id).starts_with('é'));
        let lossy = String::from_utf8_lossy(b"bad \xff\xfe bytes 12");
        let id = m.add(&lossy);
        assert_eq!(m.template(id), "bad \u{fffd}\u{fffd} bytes <*>");
    }

    /// A word of letters that encodes `i`, so no two are equal and none holds a digit.
    fn letters(mut i: usize) -> String {
        let mut s = String::from("w");
        loop {
            s.push(char::from(b'a' + u8::try_from(i % 26).unwrap()));
            i /= 26;
            if i == 0 {
                return s;
            }
        }
    }

    #[test]
    fn a_million_distinct_lines_stay_under_the_cap_and_keep_the_frequent_clusters() {
        let mut m = TemplateMiner::new();
        let frequent = ["heartbeat from <*>", "disk usage at <*> percent on volume"];
        let mut kept = Vec::new();
        for f in frequent {
            kept.push(m.add_weighted(f, 1));
        }
        for i in 0..1_000_000 {
            m.add(&letters(i));
            if i % 100 == 0 {
                m.add(&frequent[0].replace("<*>", &i.to_string()));
                m.add(&frequent[1].replace("<*>", &(i % 97).to_string()));
            }
            assert!(i % 10_000 != 0 || m.clusters().count() <= MAX_CLUSTERS);
        }
        assert!(m.clusters().count() <= MAX_CLUSTERS);
        assert!(m.live <= MAX_CLUSTERS);
        assert_eq!(m.ids_issued(), 1_000_002);
        for (id, f) in kept.iter().zip(frequent) {
            assert_eq!(m.template(*id), f);
            assert_eq!(m.count(*id), 10_001);
        }
        // The oldest rare lines were evicted.
        assert_eq!(m.resolve(2), None);
        assert_eq!(m.count(2), 0);
    }
}
