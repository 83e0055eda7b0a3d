"""Generate a reproducible English-like prose corpus for the benchmarks.

A small grammar writes two kinds of sentence: shell-command requests ("please
find the large photos in my downloads folder") and narrative ("Anna quietly
opened the old letter because the train was late"). Words are drawn from
category lists with Zipf-like weights (the k-th word of a list is about k times
rarer than the first), and regular inflection turns a few hundred stems into a
vocabulary of about 2,500 words. Sentences join clauses with conjunctions,
so lengths have a mean near 17 words and a long tail up to 60. Most sentences
sit on a line of their own; some paragraphs are wrapped at 72 columns, as in a
book (so without ``--join-lines`` their line breaks also end sentences).

The output has exactly ``words`` word tokens under lmtoy's tokenizer, and the
same ``seed`` always gives the same text (stdlib ``random`` only).

Usage: ``python bench/make_corpus.py --words 1000000 --seed 1 > corpus.txt``
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import textwrap

NAMES = """anna tom maria james lena omar sofia david chen priya lucas emma noah
grace samuel aisha peter hana ivan julia marco nina oscar rosa victor yuki zara
felix clara hugo ingrid jonas kemal laila mateo nora pablo rania sven tariq
ursula wei xavier yara bruno celia dmitri elena farid greta hassan irene""".split()

ADJECTIVES = """old new big small large little long short recent hidden empty
quiet dark bright cold warm heavy light young tired happy strange simple quick
slow careful broken clean dirty red blue green yellow white black grey brown
open closed early late final first last next private public shared temporary
important useful difficult easy busy lonely famous ancient modern narrow wide
deep shallow sharp soft hard loud silent gentle rough smooth wooden plain
tiny huge pale rich poor strong weak brave calm angry proud nervous curious
honest lucky clever patient polite serious sudden gradual obvious rare common
secret distant nearby local foreign familiar odd ordinary perfect pretty ugly
fresh stale dry wet bitter sweet salty sour thin thick square round flat steep
empty crowded peaceful noisy dusty shiny faded bare frozen golden silver
official careless endless hopeful useless harmless wonderful terrible awful
beautiful enormous elegant fragile gloomy graceful grateful innocent jealous
magnificent mysterious nervous precious reliable restless stubborn tender
valuable vivid weary wicked wise wild""".split()

NOUNS = """file photo picture folder directory document log email video song
report note script backup download spreadsheet image archive letter message
project drive disk server printer window screen terminal command program
process battery network password account user setting update invoice receipt
recipe book chapter page story poem map ticket calendar meeting schedule
contract budget table chart list record game movie album track playlist
house room kitchen garden door wall roof floor street road bridge river lake
sea mountain hill valley forest field village town city station train bus car
bicycle boat ship plane airport harbour market shop church school library
hospital office factory farm castle tower island beach desert cave tree
flower leaf stone rock sand cloud rain snow wind storm sun moon star sky
morning evening night day week month year season summer winter spring autumn
hour minute moment man woman child boy girl friend brother sister mother father
uncle aunt cousin neighbour stranger teacher student doctor nurse engineer
driver farmer soldier captain king queen prince princess guard thief sailor
fisherman painter writer singer baker merchant priest judge clerk dog cat
horse bird fish cow sheep goat fox wolf bear rabbit mouse owl crow snake
hand head face eye ear mouth arm leg foot heart voice name word question answer
idea plan dream secret problem reason truth lie promise mistake chance choice
memory silence noise light shadow fire water bread cheese apple coffee tea
wine milk soup cake knife cup plate bottle bag box basket key lock coin ring
watch clock lamp candle chair bed blanket coat hat shoe glove shirt dress
rope chain wheel engine machine tool hammer nail paper pen pencil desk shelf
drawer cupboard mirror picture painting photograph camera radio phone
newspaper magazine journal diary notebook envelope parcel stamp card gift
party wedding funeral festival holiday journey trip visit walk race fight
war peace law rule crime court prison army crowd team family company country
world history future past lesson exam test result price cost wage tax bank
shop market coin dollar euro pound""".split()

VERBS = """show list find open delete remove copy move rename compress extract
search count sort print check sync archive upload download share edit close
save hide send display play stop start restart install update clean merge
split convert resize backup restore mount unmount lock unlock zip unzip
walk run look watch wait call ask answer tell say know think feel hear see
find give take bring carry hold keep leave lose meet need want like love hate
help try turn pull push climb fall rise sit stand lie sleep wake dream cry
laugh smile shout whisper sing dance write read paint draw build break fix
cut burn cook eat drink pay buy sell spend steal borrow lend teach learn
study remember forget notice wonder decide hope believe promise explain
follow lead cross enter return arrive visit travel drive ride fly swim
sail reach touch throw catch kick knock fill empty pour wash dry fold pack
plant grow pick gather count measure weigh mend sew knit""".split()

IRREGULAR = {  # stem: (past, present participle); third person is regular
    "find": ("found", "finding"), "run": ("ran", "running"), "say": ("said", "saying"),
    "tell": ("told", "telling"), "know": ("knew", "knowing"), "think": ("thought", "thinking"),
    "feel": ("felt", "feeling"), "hear": ("heard", "hearing"), "see": ("saw", "seeing"),
    "give": ("gave", "giving"), "take": ("took", "taking"), "bring": ("brought", "bringing"),
    "hold": ("held", "holding"), "keep": ("kept", "keeping"), "leave": ("left", "leaving"),
    "lose": ("lost", "losing"), "meet": ("met", "meeting"), "fall": ("fell", "falling"),
    "rise": ("rose", "rising"), "sit": ("sat", "sitting"), "stand": ("stood", "standing"),
    "lie": ("lay", "lying"), "sleep": ("slept", "sleeping"), "wake": ("woke", "waking"),
    "write": ("wrote", "writing"), "read": ("read", "reading"), "build": ("built", "building"),
    "break": ("broke", "breaking"), "cut": ("cut", "cutting"), "eat": ("ate", "eating"),
    "drink": ("drank", "drinking"), "pay": ("paid", "paying"), "buy": ("bought", "buying"),
    "sell": ("sold", "selling"), "spend": ("spent", "spending"), "steal": ("stole", "stealing"),
    "lend": ("lent", "lending"), "teach": ("taught", "teaching"), "forget": ("forgot", "forgetting"),
    "lead": ("led", "leading"), "drive": ("drove", "driving"), "ride": ("rode", "riding"),
    "fly": ("flew", "flying"), "swim": ("swam", "swimming"), "throw": ("threw", "throwing"),
    "catch": ("caught", "catching"), "grow": ("grew", "growing"), "sing": ("sang", "singing"),
    "stop": ("stopped", "stopping"), "split": ("split", "splitting"), "zip": ("zipped", "zipping"),
    "unzip": ("unzipped", "unzipping"), "shut": ("shut", "shutting"), "put": ("put", "putting"),
    "sew": ("sewed", "sewing"), "knit": ("knitted", "knitting"), "mend": ("mended", "mending"),
    "plan": ("planned", "planning"), "drop": ("dropped", "dropping"), "hope": ("hoped", "hoping"),
}
IRREGULAR_PLURAL = {"man": "men", "woman": "women", "child": "children", "foot": "feet",
                    "mouse": "mice", "sheep": "sheep", "fish": "fish", "thief": "thieves",
                    "leaf": "leaves", "wolf": "wolves", "knife": "knives", "shelf": "shelves"}

SINGULAR_DETERMINERS = "the my a the your this our that their his her every one".split()
PLURAL_DETERMINERS = ["the", "my", "your", "these", "our", "all the", "their", "those", "some",
                      "his", "her", "two"]
SUBJECTS = {"she": "was", "he": "was", "they": "were", "we": "were", "i": "was", "you": "were", "it": "was"}
OBJECTS = "it them her him me us you".split()
PLACES = ["in the kitchen", "at the station", "by the river", "near the old bridge", "under the table",
          "on the roof", "in the garden", "across the street", "at the market", "in the library",
          "behind the house", "outside the office", "on the train", "in the dark", "at the top of the hill",
          "along the beach", "through the forest", "inside the box", "beside the window", "at the edge of town"]
TIMES = ["yesterday", "last night", "this morning", "in the evening", "after lunch", "before dawn",
         "at midnight", "on monday", "on friday", "last week", "a year ago", "in the spring", "the next day",
         "once again", "every morning", "at last", "for {n} minutes", "for a moment", "all day",
         "that winter", "{n} days ago", "in {year}"]
ADVERBS = """slowly quickly quietly carefully suddenly finally gently nearly
barely always never often sometimes already still soon again almost really
rather simply openly calmly sadly happily""".split()
CONJUNCTIONS = "and|but|so|because|when|while|although|until|after|before|and then|or".split("|")
OPENERS = ["please", "could you", "can you", "i want to", "i need to", "help me",
           "would you", "let's", "go ahead and", "", "", ""]
REQUEST_TAILS = ["in my downloads folder", "on the desktop", "in my home directory",
                 "from last week", "that i changed yesterday", "older than {n} days",
                 "bigger than {n} megabytes", "by name", "by date", "by size",
                 "on the external drive", "in this folder", "from the server",
                 "to the backup disk", "before friday", "for me", "right now", "again",
                 "from {year}", "with more than {n} lines"]


def zipf(words: list[str], s: float = 1.0) -> tuple[list[str], list[float]]:
    """The words (duplicates removed) with cumulative Zipf weights 1/k^s."""
    unique = list(dict.fromkeys(words))
    return unique, list(itertools.accumulate(1 / (k + 1) ** s for k in range(len(unique))))


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURAL:
        return IRREGULAR_PLURAL[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def past(verb: str) -> str:
    if verb in IRREGULAR:
        return IRREGULAR[verb][0]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def gerund(verb: str) -> str:
    if verb in IRREGULAR:
        return IRREGULAR[verb][1]
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


def third(verb: str) -> str:
    return plural(verb) if verb not in ("do", "go") else verb + "es"


class Grammar:
    """Random sentences from the word lists; every draw goes through ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lists = {
            "name": zipf([n.capitalize() for n in NAMES]),
            "adj": zipf(ADJECTIVES),
            "noun": zipf(NOUNS),
            "nouns": zipf([plural(n) for n in NOUNS]),
            "verb": zipf(VERBS),
            "past": zipf([past(v) for v in VERBS]),
            "ing": zipf([gerund(v) for v in VERBS]),
            "third": zipf([third(v) for v in VERBS]),
            "adv": zipf(ADVERBS),
            "det": zipf(SINGULAR_DETERMINERS),
            "dets": zipf(PLURAL_DETERMINERS),
            "subject": zipf(list(SUBJECTS)),
            "object": zipf(OBJECTS),
            "place": zipf(PLACES, 0.7),
            "time": zipf(TIMES, 0.7),
            "conj": zipf(CONJUNCTIONS),
            "opener": zipf(OPENERS),
            "tail": zipf(REQUEST_TAILS, 0.5),
            "number": zipf([str(n) for n in range(1, 1000)], 0.7),
            "year": zipf([str(y) for y in range(2024, 1899, -1)], 0.5),
        }

    def pick(self, kind: str) -> str:
        words, cumulative = self.lists[kind]
        return self.rng.choices(words, cum_weights=cumulative)[0]

    def noun_phrase(self, many: bool) -> str:
        """A determiner, up to two adjectives and a noun (plural when ``many``)."""
        adjectives = [self.pick("adj") for _ in range(self.rng.choice((0, 0, 1, 1, 2)))]
        det = self.pick("dets" if many else "det")
        if self.rng.random() < 0.05:
            det = self.pick("name") + "'s"
        words = [det, *adjectives, self.pick("nouns" if many else "noun")]
        if det == "a" and words[1][0] in "aeiou":
            words[0] = "an"
        return " ".join(words)

    def subject(self) -> tuple[str, bool]:
        """A subject and whether it takes a plural verb."""
        r = self.rng.random()
        if r < 0.15:
            return self.pick("name"), False
        if r < 0.35:
            pronoun = self.pick("subject")
            return pronoun, SUBJECTS[pronoun] == "were"
        many = self.rng.random() < 0.3
        return self.noun_phrase(many), many

    def clause(self) -> str:
        """A narrative clause: subject, verb, object and a few modifiers."""
        subject, many = self.subject()
        parts = [subject]
        if self.rng.random() < 0.25:
            parts.append(self.pick("adv"))
        r = self.rng.random()
        if r < 0.6:
            parts.append(self.pick("past"))
        elif r < 0.8:
            parts += ["were" if many else "was", self.pick("ing")]
        else:
            parts.append(self.pick("verb") if many or subject == "i" else self.pick("third"))
        r = self.rng.random()
        if r < 0.15:
            parts.append(self.pick("object"))
        elif r < 0.25:
            parts.append(self.pick("name"))
        else:
            parts.append(self.noun_phrase(self.rng.random() < 0.3))
        for kind, chance in (("place", 0.35), ("time", 0.25), ("adv", 0.1)):
            if self.rng.random() < chance:
                parts.append(self.pick(kind).format(n=self.pick("number"), year=self.pick("year")))
        return " ".join(parts)

    def request(self) -> tuple[str, str]:
        """A shell-command request and its end mark."""
        opener = self.pick("opener")
        words = [opener, self.pick("verb"), self.noun_phrase(many=self.rng.random() < 0.7)]
        tails = set()
        while self.rng.random() < 0.45:
            tails.add(self.pick("tail").format(n=self.pick("number"), year=self.pick("year")))
        question = opener.startswith(("could", "can", "would"))
        return " ".join(w for w in (*words, *sorted(tails)) if w), "?" if question else "."

    def sentence(self) -> str:
        """One sentence, capitalised and punctuated, at most 60 words."""
        if self.rng.random() < 0.25:
            text, end = self.request()
        else:
            text, end = self.clause(), "!" if self.rng.random() < 0.03 else "."
            while self.rng.random() < 0.6:
                more = f"{self.pick('conj')} {self.clause()}"
                if len(text.split()) + len(more.split()) > 60:
                    break
                comma = "," if self.rng.random() < 0.3 else ""
                text = f"{text}{comma} {more}"
        text = f" {text} ".replace(" i ", " I ").strip()
        return text[0].upper() + text[1:] + end


def make_corpus(words: int = 1_000_000, seed: int = 0) -> str:
    """A corpus of exactly ``words`` word tokens; the same seed gives the same text."""
    rng = random.Random(seed)
    grammar = Grammar(rng)
    lines = [f"# Generated by bench/make_corpus.py --words {words} --seed {seed}"]
    left = words
    while left > 0:
        paragraph = []
        for _ in range(rng.randint(1, 6)):
            tokens = grammar.sentence().split()
            if len(tokens) >= left:  # the last sentence is cut to the exact count
                tokens = tokens[:left]
                tokens[-1] = tokens[-1].rstrip(",.?!") + "."
            left -= len(tokens)
            paragraph.append(" ".join(tokens))
            if left == 0:
                break
        if rng.random() < 0.2:  # a wrapped paragraph, as in a book
            lines += textwrap.wrap(" ".join(paragraph), 72, break_long_words=False, break_on_hyphens=False)
        else:
            lines += paragraph
        if rng.random() < 0.3:
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="word tokens (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    sys.stdout.write(make_corpus(args.words, args.seed))


if __name__ == "__main__":
    main()
