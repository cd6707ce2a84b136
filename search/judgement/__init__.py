"""News judgement: is an article about the subject (subject.py), do two articles tell one story (stories.py)."""
