"""The subject judge: its figures on the judged set beside the plain rules, and bad input."""

from __future__ import annotations

import pytest

from search import parse_article
from search.judgement.subject import SubjectJudge
from tests.search.judged_set import QUESTIONS
from tests.search.subject_eval import cases, rules, score, table


@pytest.fixture(scope="module")
def judge():
    return SubjectJudge()


def test_on_the_test_part_the_judge_meets_its_targets(capsys):
    """The test part is the newest round of the set, never tuned on (its README says how it was made).
    Measured once: precision 0.988 and recall 0.988 (targets 0.97), no homonym accepted (target none);
    the floors keep those figures from slipping. The rules alone miss more, and are less precise."""
    judged = cases("test")
    ours, alone, *plain = [score(decide, judged) for decide in rules().values()]
    with capsys.disabled():
        print("\n" + table("test"))
    assert ours.precision >= 0.97 and ours.recall >= 0.97 and ours.homonyms_accepted == 0
    assert ours.recall > alone.recall + 0.05 and ours.precision >= alone.precision
    assert all(ours.precision > rule.precision + 0.3 for rule in plain)
    assert all(rule.homonyms_accepted >= 30 for rule in plain)


def article(text: str):
    return parse_article(text, "x.txt")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("", "empty"),
        ("Mistral", "empty"),
        ("date 2025-01-01\nMistral AI\n\nMistral AI.", "empty"),
        (
            "Le mistral souffle fort\n\nLe mistral souffle à 100 km/h sur la vallée du Rhône ce matin, les ferries pour la Corse sont annulés.",
            "homonym",
        ),
        (
            "Mistral AI\n\nMistral AI said on Tuesday that it had opened an office in Singapore with forty engineers.",
            "about",
        ),
    ],
)
def test_short_and_odd_articles_get_a_decision_and_a_reason(judge, text, verdict):
    judged = judge.judge(article(text)) if text else judge.judge(article("x"))
    assert judged.verdict == verdict and judged.reason


def test_an_article_naming_the_subject_200_times_is_judged_once_linearly(judge):
    text = "Mistral AI news\n\n" + "Mistral AI released a model. " * 200
    judged = judge.judge(article(text))
    assert judged.about and judged.mentions >= 200


def test_a_page_in_another_language_is_judged_on_its_names(judge):
    german = (
        "Mistral AI stellt neues Modell vor\n\nDas französische Unternehmen Mistral AI hat am Dienstag ein neues "
        "Sprachmodell vorgestellt, das schneller und günstiger sein soll als seine Vorgänger."
    )
    judged = judge.judge(article(german))
    assert judged.about and "Mistral AI" in judged.reason


def test_le_chat_written_mid_sentence_is_the_assistant_and_the_cat_is_not(judge):
    assistant = (
        "Un maire porte plainte contre un assistant\n\nLe maire affirme que le Chat, l'assistant d'intelligence "
        "artificielle, l'a accusé à tort de corruption devant plusieurs habitants.\n\nSon avocate a écrit à la "
        "société qui édite le Chat pour exiger une correction des réponses fausses."
    )
    cat = (
        "Un chat retrouvé après trois semaines\n\nLe chat de la famille Martin, disparu pendant les vacances, a été "
        "retrouvé dans un garage voisin par un facteur attentif.\n\nLe Chateaubriand, restaurant du quartier, "
        "avait affiché son portrait en vitrine pendant trois semaines."
    )
    assert judge.judge(article(assistant)).about
    assert judge.judge(article(cat)).verdict == "absent"


def test_a_headline_naming_the_subject_after_another_leaves_the_company_to_the_other(judge):
    text = (
        "Nordhaven opens a GPU campus in Finland, with Mistral AI among its first tenants\n\n"
        "Nordhaven, the Oslo data-centre operator, opened a 90-megawatt campus near Kajaani on Tuesday.\n\n"
        "The company said the site houses 24,000 graphics processors cooled by outside air most of the year.\n\n"
        "It named a university consortium, a car-parts maker and Mistral AI among its early customers.\n\n"
        "The company raised 1.2 billion euros in debt and equity last year to build the first phase.\n\n"
        "The firm plans a second phase of the same size by 2028, if the grid connection is approved.\n\n"
        "Local officials welcomed the 150 jobs but asked about the water used by the cooling in summer."
    )
    judged = judge.judge(article(text))
    assert judged.verdict == "passing", judged.reason
    opening = text.replace(
        "Nordhaven opens a GPU campus in Finland, with Mistral AI among its first tenants",
        "AI campus: Mistral AI becomes the first tenant of Nordhaven's Finnish site",
    )
    assert judge.judge(article(opening)).about


def test_names_other_things_bear_too_take_their_sense_from_the_words_near_them(judge):
    comic = (
        "Le Chat débarque sur le Vieux-Port\n\nLe Chat, le personnage de bande dessinée de Philippe Geluck, "
        "s'installe sur le port : vingt sculptures en bronze pour l'été.\n\nChaque sculpture montre Le Chat "
        "dans une situation absurde, avec l'une de ses sentences, et l'exposition est en accès libre."
    )
    horse = (
        "Mistral Large storms clear at the racecourse\n\nThe colt Mistral Large, trained at Chantilly, won by "
        "four lengths under jockey Clément Fauvel in a conditions race on Wednesday.\n\nHis trainer said "
        "Mistral Large would run once more this autumn before the winter break at the stables."
    )
    model = (
        "Mistral Large tops a coding benchmark\n\nMistral Large, the flagship model, scored first on a new "
        "coding benchmark published on Tuesday, ahead of two American models.\n\nDevelopers can use "
        "Mistral Large through the API from today at the same price as before."
    )
    assert judge.judge(article(comic)).verdict == "homonym"
    assert "Le Chat" in judge.judge(article(comic)).reason
    assert judge.judge(article(horse)).verdict == "homonym"
    assert judge.judge(article(model)).about


def test_the_shared_name_opening_another_name_is_another_thing(judge):
    text = (
        "Mistral Électricité déploie l'intelligence artificielle sur ses réseaux\n\nMistral Électricité, "
        "installateur électrique du Vaucluse, lance un service de maintenance fondé sur l'intelligence "
        "artificielle pour ses clients agricoles.\n\nUn algorithme de Mistral Électricité analyse les "
        "courants des transformateurs et alerte les équipes avant la panne."
    )
    judged = judge.judge(article(text))
    assert not judged.about, judged.reason
    acronym = text.replace("Mistral Électricité", "Mistral IA")  # an acronym names no other thing
    assert judge.judge(article(acronym)).about


def test_the_question_judge_turns_away_no_judged_question_that_has_an_answer(judge):
    """Of the 171 judged questions, those it calls off the subject are all ones with no answer (the
    weather, football); the other questions with none are left to the search's own "nothing found"."""
    turned = [q for q in QUESTIONS if judge.off_subject(q.query)]
    assert len(turned) >= 3 and not any(q.answers for q in turned)


def test_a_name_its_neighbours_do_not_tell_takes_the_sense_the_article_gives_it_elsewhere(judge):
    """One sense per article: once a bar called Mistral is told by the words near it, a bare "Mistral"
    nothing near tells is the bar too, though the article is full of the AI field's words."""
    bar = (
        "Mistral, the bar of the AI crowd\n\nAt the counter of Mistral, a narrow cocktail bar near the station, "
        "the talk turns to GPUs, models and inference costs, as it does every evening.\n\nMistral opened in "
        "2022 in what used to be a bike repair shop, and its owner has since watched the start-ups move in "
        "around it, with their engineers, their investors and their models.\n\nEach week Mistral sorts "
        "through a small pile of misdirected post: job applications for an AI company, partnership offers, "
        "complaints about a chatbot's answer on a model's benchmark."
    )
    judged = judge.judge(article(bar))
    assert judged.verdict == "homonym", judged.reason
    # The subject's words near the name keep the subject's sense, whatever the rest of the article says.
    release = bar.replace("Each week Mistral sorts", "Each week Mistral AI's new open-weight model sorts")
    assert judge.judge(article(release)).mentions == 1


def test_the_shared_name_after_a_persons_title_is_that_persons_name(judge):
    text = (
        "M. Mistral prend la tête du conservatoire\n\nM. Mistral, pianiste formé à Lyon, dirigera le "
        "conservatoire de la ville à partir de septembre, a annoncé la mairie mardi.\n\nLe nouveau directeur "
        "veut ouvrir une classe de musique assistée par l'intelligence artificielle. Selon M. Mistral, les "
        "élèves y composeront avec un modèle de langage."
    )
    judged = judge.judge(article(text))
    assert judged.verdict == "homonym" and not judged.mentions, judged.reason
