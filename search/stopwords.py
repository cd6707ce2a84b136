"""Stop words for English and French: the Snowball project's lists (BSD licence), accent-folded.

Kept as data rather than taken from a package: the packaged lists we looked at are either the same
words or far longer ones (1,300 English words, including "billion") that would drop real content.
"""

ENGLISH = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing would should could ought i'm you're
    he's she's it's we're they're i've you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll
    he'll she'll we'll they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't
    wouldn't shan't shouldn't can't cannot couldn't mustn't let's that's who's what's here's there's when's
    where's why's how's a an the and but if or because as until while of at by for with about against
    between into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some such no nor
    not only own same so than too very will just also can may might must shall
    """.split()
)

FRENCH = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me meme mes moi mon
    ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l a m n s t y ete etee etees etes etant etante etants etantes suis es est sommes etes sont
    serai seras sera serons serez seront serais serait serions seriez seraient etais etait etions etiez
    etaient fus fut fumes futes furent sois soit soyons soyez soient fusse fusses fussions fussiez fussent
    ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront
    aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eumes eutes eurent aie aies
    ait ayons ayez aient eusse eusses eut eussions eussiez eussent ceci cela celle celles celui ceux cet
    cette ici ils leurs quel quels quelle quelles sans soi tout tous toute toutes tres plus moins aussi
    comme donc dont ni or car si alors ainsi
    """.split()
)

BY_LANGUAGE = {"en": ENGLISH, "fr": FRENCH}

# Words that ask, or verbs that say little (`put`, `faire`), rather than say what a question is about:
# searched like any word, but left out of the share of a question's words that the articles must know
# before anything is answered.
QUESTION_WORDS = frozenset(
    """
    much many whose tell know please get gets got put puts give gave make makes made take takes took
    quand comment combien pourquoi quoi lequel laquelle lesquels lesquelles faire fait font mettre mis
    donner donne prendre pris
    """.split()
)
