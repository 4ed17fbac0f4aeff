//! Semi-supervised multinomial naive Bayes, trained by EM over the batch itself
//! (Nigam, McCallum, Thrun and Mitchell 2000, "Text Classification from Labeled and
//! Unlabeled Documents using EM"). No labelled data: the stories that configured evidence
//! (keywords, hints, categories) placed are the seeds; every round the model labels the
//! rest of the batch softly and learns from those labels too, so each topic picks up the
//! vocabulary its seeds co-occur with ("quarterback" next to "season", "Nasdaq" next to
//! "shares").

/// Additive (Laplace) smoothing of word counts per topic.
const SMOOTHING: f32 = 1.0;
/// How much of each story no evidence placed the "none of these topics" class starts with.
/// It trades the two errors: at 1.0 the class is the whole batch's word distribution and
/// keeps more of a configured topic's unplaced stories than it should (AG News, four topics:
/// accuracy 0.773); at 0.1 it learns too little to hold a subject no topic is about (with
/// Technology not configured, 84% of its stories still land in a topic). At 0.2: 0.870, and
/// 4–33% (see `tests/topics.rs`).
const BACKGROUND_START: f32 = 0.2;
/// EM rounds; the labels settle within a handful.
const ROUNDS: usize = 8;

/// One document as the model sees it: `(term, count)` sorted by term.
pub(crate) type Features = Vec<(u32, f32)>;

/// A seed: the topic the evidence gave a story and how much that evidence is trusted (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seed {
    pub topic: usize,
    pub weight: f32,
}

/// The fitted model: log P(term | topic) for every topic.
pub(crate) struct Model {
    log_prob: Vec<Vec<f32>>,
    /// log P(topic), from how many stories each topic holds (add-one smoothed). Without it a
    /// topic with one story, whose smoothed word counts are nearly flat, claims any story
    /// full of words the big topics never saw.
    log_prior: Vec<f32>,
    /// Terms the model knows (seen in at least two stories).
    known: Vec<bool>,
    /// Topics with any known word to learn from; the others cannot claim a story.
    learnt: Vec<bool>,
}

impl Model {
    /// Fits the model over `docs` (terms below `vocab`) with `topics` topics.
    /// `seeds[i]` is the evidence-given topic of story `i`, if any.
    ///
    /// The seeds start the model; from then on every story, seeds included, is relabelled
    /// by the model each round (soft labels), so a seed whose keyword misled it stops
    /// teaching the wrong topic once its other words say otherwise.
    ///
    /// With `background`, the model has one class more, last: "none of these topics". It
    /// starts from every story no evidence placed, so at first it is the batch's own word
    /// distribution; a story joins a topic only where the topic's words explain it better
    /// than the batch at large, and the stories of a subject no topic is about stay with it.
    pub(crate) fn fit(
        docs: &[Features],
        vocab: usize,
        topics: usize,
        seeds: &[Option<Seed>],
        background: bool,
    ) -> Model {
        let classes = topics + background as usize;
        // A term seen in one story only teaches nothing about any other.
        let mut df = vec![0u32; vocab];
        for d in docs {
            for &(t, _) in d {
                df[t as usize] += 1;
            }
        }
        let mut model = Model {
            log_prob: vec![vec![0.0; vocab]; classes],
            log_prior: vec![0.0; classes],
            known: df.iter().map(|&n| n >= 2).collect(),
            learnt: vec![false; classes],
        };
        let mut labels: Vec<Vec<f32>> = seeds
            .iter()
            .map(|s| {
                let mut l = vec![0.0; classes];
                match s {
                    Some(s) => l[s.topic] = s.weight,
                    None if background => l[topics] = BACKGROUND_START,
                    None => {}
                }
                l
            })
            .collect();
        let none_vetoed = vec![false; classes];
        for _ in 0..ROUNDS {
            model.learn(docs, &labels);
            for (d, l) in docs.iter().zip(labels.iter_mut()) {
                // A story with no known word keeps its label; it teaches nothing anyway.
                if let Some(p) = model.posterior(d, &none_vetoed) {
                    *l = p;
                }
            }
        }
        model
    }

    /// M-step: word counts per topic from the (soft) labels.
    fn learn(&mut self, docs: &[Features], labels: &[Vec<f32>]) {
        let vocab = self.known.len();
        let mut counts = vec![vec![SMOOTHING; vocab]; self.log_prob.len()];
        self.learnt.iter_mut().for_each(|l| *l = false);
        for (d, l) in docs.iter().zip(labels) {
            for (k, &p) in l.iter().enumerate().filter(|(_, p)| **p > 0.0) {
                for &(t, c) in d {
                    if self.known[t as usize] {
                        counts[k][t as usize] += p * c;
                        self.learnt[k] = true;
                    }
                }
            }
        }
        let mass: Vec<f32> = (0..self.log_prob.len())
            .map(|k| labels.iter().map(|l| l[k]).sum::<f32>() + 1.0)
            .collect();
        let all: f32 = mass.iter().sum();
        self.log_prior = mass.iter().map(|m| (m / all).ln()).collect();
        for (k, c) in counts.into_iter().enumerate() {
            let total: f32 = c
                .iter()
                .zip(&self.known)
                .filter(|(_, &known)| known)
                .map(|(x, _)| x)
                .sum();
            let log_total = total.ln();
            self.log_prob[k] = c.into_iter().map(|x| x.ln() - log_total).collect();
        }
    }

    /// P(topic | story), vetoed topics excluded; None when the story
    /// has no term the model knows or every topic is vetoed.
    pub(crate) fn posterior(&self, d: &Features, vetoed: &[bool]) -> Option<Vec<f32>> {
        let open = |k: usize| self.learnt[k] && !vetoed[k];
        if !d.iter().any(|&(t, _)| self.known[t as usize]) || !(0..vetoed.len()).any(open) {
            return None;
        }
        let scores: Vec<f32> = self
            .log_prob
            .iter()
            .enumerate()
            .map(|(k, lp)| {
                if !open(k) {
                    return f32::NEG_INFINITY;
                }
                self.log_prior[k]
                    + d.iter()
                        .filter(|&&(t, _)| self.known[t as usize])
                        .map(|&(t, c)| c * lp[t as usize])
                        .sum::<f32>()
            })
            .collect();
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        Some(exp.into_iter().map(|e| e / sum).collect())
    }

    /// The terms of `d` that speak most for topic `k` over the others (log-likelihood ratio).
    pub(crate) fn evidence(&self, d: &Features, k: usize, n: usize) -> Vec<u32> {
        let mut ratio: Vec<(f32, u32)> = d
            .iter()
            .filter(|&&(t, _)| self.known[t as usize])
            .map(|&(t, c)| {
                let own = self.log_prob[k][t as usize];
                let other = self
                    .log_prob
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(_, lp)| lp[t as usize])
                    .fold(f32::NEG_INFINITY, f32::max);
                (c * (own - other), t)
            })
            .filter(|(r, _)| *r > 0.0)
            .collect();
        ratio.sort_by(|a, b| b.0.total_cmp(&a.0));
        ratio.into_iter().take(n).map(|(_, t)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlabelled_stories_teach_the_topics_their_words() {
        // Terms: 0 goal, 1 striker, 2 keeper, 3 shares, 4 profit, 5 investors.
        let docs: Vec<Features> = vec![
            vec![(0, 1.0), (1, 1.0)],
            vec![(3, 1.0), (4, 1.0)],
            // Unlabelled: "striker keeper" (sports by striker), "profit investors" (business)
            vec![(1, 1.0), (2, 1.0)],
            vec![(4, 1.0), (5, 1.0)],
            // Only "keeper": learnt from the unlabelled story above.
            vec![(2, 1.0), (5, 0.0)],
            vec![(5, 1.0), (2, 0.0)],
        ];
        let seed = |topic| Some(Seed { topic, weight: 1.0 });
        let seeds = [seed(0), seed(1), None, None, None, None];
        let m = Model::fit(&docs, 6, 2, &seeds, false);
        let p = |i: usize| m.posterior(&docs[i], &[false, false]).unwrap();
        assert!(p(2)[0] > 0.5 && p(3)[1] > 0.5);
        assert!(p(4)[0] > 0.5, "{:?}", p(4));
        assert!(p(5)[1] > 0.5, "{:?}", p(5));
        assert_eq!(m.evidence(&docs[2], 0, 1), vec![1]);
        assert!(m.posterior(&docs[0], &[true, true]).is_none());
        assert_eq!(m.posterior(&docs[0], &[true, false]).unwrap()[0], 0.0);
    }
}
