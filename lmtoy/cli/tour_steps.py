"""The tour's steps: each a section, a caption and the command it runs, and the figure each
section's handout shows (``lmtoy tour --html``). ``lmtoy.cli.tour`` shows and runs them.
"""

from __future__ import annotations

from typing import NamedTuple

PROGRAM = "check the program log and find out whether it ran"
BATTERY = "check the battery log and find out whether it ran"


class Step(NamedTuple):
    section: str  # "4. Feature voting": --section 4 picks it
    caption: str
    command: str  # shown, then run
    figure: str = ""  # `lmtoy figure` arguments: the handout (--html) draws it after the step


# the figure each section's handout shows, after the section's last step (lmtoy figure ARGS)
SECTION_FIGURES = {
    "1. One-hot encoding": "one_hot_vocabulary",
    "1. Matrix multiplication as lookup": "matrix_mult_three_row_two_col",
    "2. First-order sequence model": "markov_chain",
    "2. Lookup": "transition_lookups",
    "3. Second-order sequence model": "markov_chain_2",
    "4. Second-order with skips": "transition_matrix_second_order_skips",
    "4. Feature voting": "feature_voting",
    "5. Masking": "masked_feature_activities",
    "6. Attention as matrix multiplication": "mask_matrix_lookup",
    "7. Second-order model as matrix multiplications": "feature_creation_layer",
    "7. The counted model is a transformer": "architecture --highlight feedforward",
    "8. Sequence completion": "architecture --highlight softmax",
    "9. Positional encoding": "positional_encoding",
    "9. Softmax": "architecture --highlight softmax",
    "10. Basic self-attention (Bloem)": "architecture --highlight multihead",
    "10. A transformer, trained by hand": "architecture --highlight embedding",
    "10. Shapes": "matrix_shapes --model model.npz",
    "10. The encoder and cross-attention": "architecture --highlight cross-attention",
    "11. Learned, not counted": "embedded_words --model model.npz",
    "11. Attention, learned": "architecture --highlight multihead",
    "12. Byte pair encoding": "architecture --highlight embedding",
}


STEPS = [
    Step("1. One-hot encoding", "Vocabulary (files, find, my) counted from one: 'find my files' is [2, 3, 1]; "
         "each word becomes a row with a single 1. A one-hot row dotted with itself is 1, with another 0.",
         "lmtoy onehot 'find my files'"),
    Step("1. Matrix multiplication as lookup", "One-hot rows with their 1 in columns 1, 4, 3 pull out rows 1, 4, 3 "
         "of a matrix; dotted with a weighted mix, a one-hot row returns that word's weight.",
         "lmtoy onehot 'directories my me' --corpus show_me --lookup --mix directories=0.2,files=0.3,photos=0.5"),
    Step("2. First-order sequence model", "Show me my directories/files/photos please (0.2/0.3/0.5): every row is "
         "0/1 except 'my'; nothing follows 'please', so its row is all zero.", "lmtoy first-order show_me"),
    Step("2. Lookup", "one-hot(my) times the transition matrix pulls out the row of 'my': 0.2, 0.3, 0.5.",
         "lmtoy first-order show_me --word my"),
    Step("3. First-order, for contrast", "Check whether the battery ran down / the program ran please (0.4/0.6): "
         "after 'ran' the first-order model can only say down 0.4, please 0.6.", "lmtoy first-order battery"),
    Step("3. Second-order sequence model", "One row per pair of words: 64 in principle, 7 observed. Only "
         "(whether, the) has fractions; (battery, ran) -> down and (program, ran) -> please are certain.",
         "lmtoy second-order battery"),
    Step("4. Second-order with skips", "Features pair the most recent word with every earlier word of the sentence "
         "(64 in all). For 'ran', only (battery, ran) and (program, ran) are decisive; the other eight say 0.5/0.5.",
         "lmtoy skips program_log --word ran"),
    Step("4. Feature voting", "Sum the rows of the active features: the program prompt gets down 4, please 5. "
         "Right, but 4 vs 5 is a weak margin.", f"lmtoy vote program_log --prompt '{PROGRAM}'"),
    Step("4. Feature voting", "The battery prompt: down 5, please 4.", f"lmtoy vote program_log --prompt '{BATTERY}'"),
    Step("5. Masking", "A mask keeps only the informative features, (battery, ran) and (program, ran): "
         "the vote becomes down 0, please 1. This selective masking is the first picture of attention.",
         f"lmtoy vote program_log --prompt '{PROGRAM}' --auto-mask"),
    Step("5. Masking", "A mask can also be given by hand: keeping (battery, ran) alone, the battery prompt gets down 1, please 0.",
         f"lmtoy vote program_log --prompt '{BATTERY}' --keep battery,ran"),
    Step("6. Attention as matrix multiplication", "Stack one mask per most-recent word as the columns of K; the "
         "one-hot query Q of 'ran' times K^T pulls out its mask: battery, program and ran itself.",
         "lmtoy attend program_log --query ran"),
    Step("7. Second-order model as matrix multiplications", "Feature creation W1 (with a bias input), a ReLU, "
         "then the features' transition rows W2: battery=1, program=0, ran=1 gives [1, -1], ReLU [1, 0], down 1.",
         f"lmtoy feedforward program_log --prompt '{BATTERY}'"),
    Step("7. Second-order model as matrix multiplications", "battery=0, program=1, ran=1 gives [-1, 1], "
         "ReLU [0, 1], please 1.", f"lmtoy feedforward program_log --prompt '{PROGRAM}'"),
    Step("7. The counted model is a transformer", "Build, not train: one-hot embeddings, attention whose Q K^T looks "
         "up the recent word's mask, a feed-forward layer whose ReLU makes the (earlier, recent) presences and whose "
         "W_2 holds their transition rows; a second head and a gate give the unmasked vote when no informative "
         "feature is active.", "lmtoy transformer compile program_log --out compiled.npz --masked"),
    Step("7. The counted model is a transformer", "An ordinary model file: predict reads it. Its logits are section "
         "5's masked votes, down 1, please 0, so down wins.",
         f"lmtoy transformer predict --model compiled.npz --prompt '{BATTERY}' --top 3"),
    Step("7. The counted model is a transformer", "The same forward pass step by step: the heads' Q K^T is the mask "
         "lookup of section 6, the feed-forward hidden layer the features of section 7, the logits the votes.",
         f"lmtoy transformer trace --model compiled.npz --prompt '{BATTERY}'"),
    Step("8. Sequence completion", "Pick the most likely next word, append it, repeat: 'show me my' grows "
         "'photos please', then stops, since nothing follows 'please'.",
         "lmtoy complete show_me --prompt 'show me my' --explain"),
    Step("8. The model ladder", "The same prompt under each counted model: first- and second-order can only "
         "guess; skips win by 1; the masked vote is certain.", f"lmtoy compare program_log --prompt '{BATTERY}'"),
    Step("8. Held-out perplexity", "Which model is better on text it has not seen? Train each on commands, score 22 "
         "new requests: each sentence is n + 1 events (its words, then </s>), unseen words are <unk>, and smoothing "
         "(Kneser-Ney) gives every word some probability. The ladder ranks itself: masked skips lowest.",
         "lmtoy perplexity commands --held-out commands_heldout"),
    Step("9. Positional encoding", "PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...): added to the "
         "embedding, it tells the model where each word is.", "lmtoy posenc --positions 12 --d-model 8"),
    Step("9. Positional encoding", "Each pair of dimensions traces a circle at its own frequency.",
         "lmtoy posenc --positions 12 --d-model 8 --pair 0"),
    Step("9. Softmax", "softmax(x)_i = e^x_i / sum_j e^x_j: 1, 2, 3 become 0.09, 0.24, 0.67. Subtracting the max "
         "first changes nothing and cannot overflow; the Jacobian diag(s) - s s^T has rows that sum to 0.",
         "lmtoy softmax 1 2 3"),
    Step("10. Basic self-attention (Bloem)", "No parameters yet: w'_ij = x_i . x_j, w_ij = softmax_j(w'_ij), "
         "y_i = sum_j w_ij x_j. One-hot vectors score 1 with the same word, 0 otherwise: each word keeps "
         "e/(e + 8) = 0.25 for itself and 0.09 for each other word, never 0.",
         "lmtoy selfattend 'death is like the wind always by my side'"),
    Step("10. A transformer, trained by hand", "Embedding, sinusoidal positions, 2-head causal self-attention, add & "
         "norm, feed-forward, de-embedding and softmax, trained with hand-written gradients and Adam: 300 steps, "
         "under a second.", "lmtoy transformer train program_log --out model.npz"),
    Step("10. Shapes", "Every matrix of the model beside the paper's sizes. N is 14: the 13 words and <end>, "
         "which ends each sentence.", f"lmtoy transformer trace --model model.npz --prompt '{BATTERY}' --shapes"),
    Step("10. The encoder and cross-attention", "The rest of Figure 1: an encoder (self-attention without the mask) "
         "reads a request; each decoder layer's cross-attention takes Q from the decoder and K, V from the encoder's "
         "output. 300 requests and a made-up language with another word order, in about a second.",
         "lmtoy transformer train commands_pairs --task translate --out pairs.npz --steps 1000 --batch 32"),
    Step("10. Translation", "A request the training file does not hold, translated greedily word by word.",
         "lmtoy transformer translate --model pairs.npz 'show me my old files in the archive please'"),
    Step("10. Cross-attention, learned", "Each target word looks back at the source word it translates: the "
         "word order is reversed ('show me my files' is 'dosi mia mi vido', files my me show), which only "
         "cross-attention can learn.",
         "lmtoy transformer attention --model pairs.npz --source 'show me my files' --layer 1 --head 1"),
    Step("10. Classification (Bloem)", "The encoder alone, its outputs averaged over positions, a linear map to six "
         "intents and a softmax: 300 labelled requests, 100% right after 600 steps.",
         "lmtoy transformer train intents --task classify --steps 600 --out intents.npz"),
    Step("10. Classification (Bloem)", "One request the model has not seen, and the probability of each intent.",
         "lmtoy transformer classify --model intents.npz 'is the battery charging'"),
    Step("11. Learned, not counted", "After the battery prompt the model predicts 'down'...",
         f"lmtoy transformer predict --model model.npz --prompt '{BATTERY}' --top 4"),
    Step("11. Learned, not counted", "...and after the program prompt, 'please'.",
         f"lmtoy transformer predict --model model.npz --prompt '{PROGRAM}' --top 4"),
    Step("11. Attention, learned", "The attention row of 'ran': a head has learned to look back at the word that "
         "decides what comes next, as the hand-built mask did.",
         f"lmtoy transformer attention --model model.npz --prompt '{BATTERY}' --last"),
    Step("11. Self-attention, trained", "Bloem's basic self-attention again, now on the trained model's "
         "embeddings: the scores x_i . x_j are no longer 1 or 0, so each word mixes in the words it resembles.",
         "lmtoy selfattend 'check the battery log' --model model.npz --scale"),
    Step("11. The backward pass, by hand", "One sentence's loss walked back through one head, as the notes derive "
         "it: dV = A^T dY, dA = dY V^T, the softmax Jacobian, the 1/sqrt(d_k) scale, dQ, dK, then dW_q, dW_k, "
         "dW_v, each checked against finite differences.",
         "lmtoy transformer backward --model model.npz --prompt 'check the battery log'"),
    Step("12. Byte pair encoding", "Start from bytes and merge the most frequent adjacent pair into a new token, "
         "again and again: on show_me ' m' (id 256) goes first, twice in every sentence (weights 0.2 + 0.3 + 0.5, "
         "twice: 2); a tie goes to the smaller left id.", "lmtoy bpe show show_me --vocab-size 259"),
]


def _with_figures(steps: list[Step]) -> list[Step]:
    """The steps, the last of each section carrying that section's figure."""
    last = {step.section: i for i, step in enumerate(steps)}
    return [s._replace(figure=SECTION_FIGURES.get(s.section, "")) if last[s.section] == i else s
            for i, s in enumerate(steps)]


STEPS = _with_figures(STEPS)
