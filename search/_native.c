/* The per-hit text work of a query in C: finding words, marking a query's words, comparing word sets.
 *
 * search/native.py holds the same functions in Python, which define what these must return (the tests
 * compare the two on generated texts) and run where this extension could not be built.
 *
 * Words are WORD_RE's (search/analysis.py):
 *     [$€£] | \d++(?:[.,]\d++)++ | [^\W\d_]{1,3}[$€£] | \w++(?:[-‐‑'’ʼ]\w++)*+
 * tried in that order at each position, with Python's Unicode classes (\w: alphanumeric or `_`,
 * \d: decimal digit). The quantifiers are possessive, so one forward scan finds what the regex finds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Python's classes, looked up in a table for ASCII (most characters): Python's own functions go
 * through its Unicode database, several calls a character. */
enum { WORD = 1, DIGIT = 2, SPACE = 4 };
static unsigned char ascii_classes[128];

static inline int is_word(Py_UCS4 c) { return c < 128 ? ascii_classes[c] & WORD : Py_UNICODE_ISALNUM(c); }

static inline int is_digit(Py_UCS4 c) { return c < 128 ? ascii_classes[c] & DIGIT : Py_UNICODE_ISDECIMAL(c); }

static inline int is_space(Py_UCS4 c) { return c < 128 ? ascii_classes[c] & SPACE : Py_UNICODE_ISSPACE(c); }

static inline int is_letter(Py_UCS4 c) { return c != '_' && !is_digit(c) && is_word(c); }

static inline int is_currency(Py_UCS4 c) { return c == '$' || c == 0x20AC || c == 0xA3; }

static inline int is_joiner(Py_UCS4 c)
{
    return c == '-' || c == 0x2010 || c == 0x2011 || c == '\'' || c == 0x2019 || c == 0x2BC;
}

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t length;
} Text;

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

/* The end of a word starting at `i`, or -1 when no word starts there. */
static Py_ssize_t word_end(const Text *t, Py_ssize_t i)
{
    Py_ssize_t n = t->length, j;
    Py_UCS4 c = AT(t, i);
    if (is_currency(c))
        return i + 1;
    if (is_digit(c)) { /* \d++(?:[.,]\d++)++ */
        int groups = 0;
        for (j = i + 1; j < n && is_digit(AT(t, j)); j++)
            ;
        while (j + 1 < n && (AT(t, j) == '.' || AT(t, j) == ',') && is_digit(AT(t, j + 1))) {
            for (j += 2; j < n && is_digit(AT(t, j)); j++)
                ;
            groups++;
        }
        if (groups)
            return j;
    }
    else if (is_letter(c)) { /* [^\W\d_]{1,3}[$€£]: only the longest run of letters can be followed by a sign */
        for (j = i + 1; j < n && j < i + 3 && is_letter(AT(t, j)); j++)
            ;
        if (j < n && is_currency(AT(t, j)))
            return j + 1;
    }
    if (!is_word(c))
        return -1;
    for (j = i + 1; j < n && is_word(AT(t, j)); j++)
        ;
    while (j + 1 < n && is_joiner(AT(t, j)) && is_word(AT(t, j + 1))) {
        for (j += 2; j < n && is_word(AT(t, j)); j++)
            ;
    }
    return j;
}

static int read_text(PyObject *text, Text *t)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "a str is needed");
        return -1;
    }
    t->kind = PyUnicode_KIND(text);
    t->data = PyUnicode_DATA(text);
    t->length = PyUnicode_GET_LENGTH(text);
    return 0;
}

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* A 64-bit hash of the characters text[start:end]: FNV-1a over the code points, then mixed; never 0
 * (an empty slot of a WordHashes). Two different words share one by a chance of 1 in 2^64. */
static inline uint64_t hash_span(const Text *t, Py_ssize_t start, Py_ssize_t end)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (Py_ssize_t i = start; i < end; i++) {
        h ^= AT(t, i);
        h *= 0x100000001b3ULL;
    }
    h = mix(h);
    return h ? h : 1;
}

/* -- WordHashes: a set of words held as their hashes ---------------------------------------------------- */

/* The analyser's word cache is a dict of hundreds of thousands of words: looking up each word of a hit
 * there misses the processor's caches two or three times (the table, the entry, the key's characters).
 * A WordHashes answers "was this word met?" from one probe of a table of 64-bit hashes, for words found
 * in a text without making them into str objects. Open addressing, linear probing, at most half full. */
typedef struct {
    PyObject_HEAD
    uint64_t *slots;
    Py_ssize_t capacity; /* a power of 2 */
    Py_ssize_t count;
} WordHashes;

static int hashes_find(const WordHashes *self, uint64_t h)
{
    for (Py_ssize_t i = (Py_ssize_t)(h & (self->capacity - 1));; i = (i + 1) & (self->capacity - 1)) {
        if (self->slots[i] == h)
            return 1;
        if (self->slots[i] == 0)
            return 0;
    }
}

static void hashes_put(uint64_t *slots, Py_ssize_t capacity, uint64_t h)
{
    Py_ssize_t i = (Py_ssize_t)(h & (capacity - 1));
    while (slots[i] != 0 && slots[i] != h)
        i = (i + 1) & (capacity - 1);
    slots[i] = h;
}

static int hashes_add(WordHashes *self, uint64_t h)
{
    if (hashes_find(self, h))
        return 0;
    if (2 * (self->count + 1) > self->capacity) {
        Py_ssize_t capacity = 2 * self->capacity;
        uint64_t *slots = PyMem_Calloc(capacity, sizeof(uint64_t));
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < self->capacity; i++)
            if (self->slots[i])
                hashes_put(slots, capacity, self->slots[i]);
        PyMem_Free(self->slots);
        self->slots = slots;
        self->capacity = capacity;
    }
    hashes_put(self->slots, self->capacity, h);
    self->count++;
    return 0;
}

static uint64_t hash_word(PyObject *word, int *error)
{
    Text t;
    *error = read_text(word, &t) < 0;
    return *error ? 0 : hash_span(&t, 0, t.length);
}

static int hashes_reset(WordHashes *self)
{
    uint64_t *slots = PyMem_Calloc(8, sizeof(uint64_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(self->slots);
    self->slots = slots;
    self->capacity = 8;
    self->count = 0;
    return 0;
}

static int hashes_init(WordHashes *self, PyObject *args, PyObject *kwargs)
{
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs)) || !PyArg_ParseTuple(args, ":WordHashes")) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "WordHashes() takes no arguments");
        return -1;
    }
    return hashes_reset(self);
}

static void hashes_dealloc(WordHashes *self)
{
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *hashes_add_method(WordHashes *self, PyObject *word)
{
    int error;
    uint64_t h = hash_word(word, &error);
    if (error || hashes_add(self, h) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *hashes_clear_method(WordHashes *self, PyObject *unused)
{
    if (hashes_reset(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int hashes_contains(WordHashes *self, PyObject *word)
{
    int error;
    uint64_t h = hash_word(word, &error);
    return error ? -1 : hashes_find(self, h);
}

static Py_ssize_t hashes_length(WordHashes *self) { return self->count; }

static PyMethodDef hashes_methods[] = {
    {"add", (PyCFunction)hashes_add_method, METH_O, "Add a word."},
    {"clear", (PyCFunction)hashes_clear_method, METH_NOARGS, "Forget every word."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods hashes_as_sequence = {
    .sq_length = (lenfunc)hashes_length,
    .sq_contains = (objobjproc)hashes_contains,
};

static PyTypeObject WordHashesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "search._native.WordHashes",
    .tp_doc = "A set of words held as 64-bit hashes: add, clear, `in`, len.",
    .tp_basicsize = sizeof(WordHashes),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)hashes_init,
    .tp_dealloc = (destructor)hashes_dealloc,
    .tp_methods = hashes_methods,
    .tp_as_sequence = &hashes_as_sequence,
};

/* find_words(text) -> list[str]: WORD_RE.findall(text). */
static PyObject *find_words(PyObject *module, PyObject *text)
{
    Text t;
    if (read_text(text, &t) < 0)
        return NULL;
    PyObject *words = PyList_New(0);
    if (words == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < t.length;) {
        Py_ssize_t end = word_end(&t, i);
        if (end < 0) {
            i++;
            continue;
        }
        PyObject *word = PyUnicode_Substring(text, i, end);
        if (word == NULL || PyList_Append(words, word) < 0) {
            Py_XDECREF(word);
            Py_DECREF(words);
            return NULL;
        }
        Py_DECREF(word);
        i = end;
    }
    return words;
}

/* mark_words(text, known, known_words, met) -> (marks, unknown)
 *
 * marks: (start, end, known[word]) for each word of `text` that is a key of the dict `known`, in text
 * order; unknown: the set of the other words that the WordHashes `met` does not hold. `known_words`
 * is a WordHashes of the keys of `known`: a word is made a str only when one of the two may hold it. */
static PyObject *mark_words(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyDict_Check(args[1]) || !PyObject_TypeCheck(args[2], &WordHashesType) ||
        !PyObject_TypeCheck(args[3], &WordHashesType)) {
        PyErr_SetString(PyExc_TypeError,
                        "mark_words(text: str, known: dict, known_words: WordHashes, met: WordHashes)");
        return NULL;
    }
    PyObject *text = args[0], *known = args[1];
    const WordHashes *known_words = (WordHashes *)args[2], *met = (WordHashes *)args[3];
    Text t;
    if (read_text(text, &t) < 0)
        return NULL;
    PyObject *marks = PyList_New(0), *unknown = PySet_New(NULL), *word = NULL;
    if (marks == NULL || unknown == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < t.length;) {
        Py_ssize_t end = word_end(&t, i);
        if (end < 0) {
            i++;
            continue;
        }
        uint64_t h = hash_span(&t, i, end);
        PyObject *value = NULL; /* borrowed */
        if (hashes_find(known_words, h)) {
            if ((word = PyUnicode_Substring(text, i, end)) == NULL)
                goto fail;
            value = PyDict_GetItemWithError(known, word);
            if (value == NULL && PyErr_Occurred())
                goto fail;
        }
        if (value != NULL) {
            PyObject *mark = Py_BuildValue("(nnO)", i, end, value);
            if (mark == NULL || PyList_Append(marks, mark) < 0) {
                Py_XDECREF(mark);
                goto fail;
            }
            Py_DECREF(mark);
        }
        else if (!hashes_find(met, h)) {
            if (word == NULL && (word = PyUnicode_Substring(text, i, end)) == NULL)
                goto fail;
            if (PySet_Add(unknown, word) < 0)
                goto fail;
        }
        Py_CLEAR(word);
        i = end;
    }
    return Py_BuildValue("(NN)", marks, unknown);
fail:
    Py_XDECREF(word);
    Py_XDECREF(marks);
    Py_XDECREF(unknown);
    return NULL;
}

/* -- word sets -------------------------------------------------------------------------------------- */

static int compare_hashes(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* word_set(text) -> bytes: the distinct words of `text.lower().split()`, as sorted 64-bit hashes of their
 * characters (two different words of two passages sharing a hash is a chance of about 1 in 10^15). An
 * ASCII text is lowered here, as it is hashed; any other by str.lower (full case mappings). */
static PyObject *word_set(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "a str is needed");
        return NULL;
    }
    int ascii = PyUnicode_IS_ASCII(text);
    PyObject *lowered = ascii ? Py_NewRef(text) : PyObject_CallMethod(text, "lower", NULL);
    if (lowered == NULL)
        return NULL;
    Text t;
    read_text(lowered, &t);
    uint64_t *hashes = PyMem_Malloc(sizeof(uint64_t) * (t.length / 2 + 1));
    if (hashes == NULL) {
        Py_DECREF(lowered);
        return PyErr_NoMemory();
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < t.length;) {
        if (is_space(AT(&t, i))) {
            i++;
            continue;
        }
        uint64_t h = 0xcbf29ce484222325ULL; /* as hash_span, on the lowered characters */
        for (; i < t.length && !is_space(AT(&t, i)); i++) {
            Py_UCS4 c = AT(&t, i);
            h ^= ascii && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
            h *= 0x100000001b3ULL;
        }
        h = mix(h);
        hashes[count++] = h ? h : 1;
    }
    Py_DECREF(lowered);
    qsort(hashes, count, sizeof(uint64_t), compare_hashes);
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        if (distinct == 0 || hashes[distinct - 1] != hashes[i])
            hashes[distinct++] = hashes[i];
    PyObject *result = PyBytes_FromStringAndSize((const char *)hashes, distinct * sizeof(uint64_t));
    PyMem_Free(hashes);
    return result;
}

/* near_copy(words, seen, threshold) -> bool: whether the Jaccard similarity of the word set `words`
 * with one of the list `seen` is at least `threshold`. Sets whose sizes differ too much cannot be that
 * close: only the others are intersected. */
static PyObject *near_copy(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0]) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "near_copy(words: bytes, seen: list[bytes], threshold: float)");
        return NULL;
    }
    double threshold = PyFloat_AsDouble(args[2]);
    if (threshold == -1.0 && PyErr_Occurred())
        return NULL;
    const uint64_t *a = (const uint64_t *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]) / sizeof(uint64_t);
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(args[1]); k++) {
        PyObject *other = PyList_GET_ITEM(args[1], k);
        if (!PyBytes_Check(other)) {
            PyErr_SetString(PyExc_TypeError, "near_copy: seen holds word sets (bytes)");
            return NULL;
        }
        const uint64_t *b = (const uint64_t *)PyBytes_AS_STRING(other);
        Py_ssize_t other_size = PyBytes_GET_SIZE(other) / sizeof(uint64_t);
        Py_ssize_t small = size < other_size ? size : other_size;
        Py_ssize_t large = size < other_size ? other_size : size;
        if (small < threshold * large)
            continue;
        Py_ssize_t i = 0, j = 0, common = 0;
        while (i < size && j < other_size) {
            if (a[i] < b[j])
                i++;
            else if (a[i] > b[j])
                j++;
            else {
                common++;
                i++;
                j++;
            }
        }
        if (common >= threshold * (size + other_size - common))
            Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

/* -- scoring ------------------------------------------------------------------------------------------ */

/* The BM25 variants of search/scoring.py, each term's weight for a term frequency in a passage of a
 * length, with Python's operations in Python's order (the extension is built with -ffp-contract=off,
 * so that no multiply-add is fused): the same doubles as numpy's. */
enum { OKAPI, L, PLUS };

typedef struct {
    int variant;
    double k1, b, delta, avgdl, base;
} Scorer;

static inline double tf_weight(const Scorer *s, double tf, double length)
{
    double norm = 1 - s->b + s->b * length / s->avgdl;
    switch (s->variant) {
    case OKAPI:
        return tf * (s->k1 + 1) / (tf + s->k1 * norm);
    case L: {
        double ctd = tf / norm;
        return tf * (s->k1 + 1) * (ctd + s->delta) / (s->k1 + ctd + s->delta);
    }
    default:
        return s->delta + tf * (s->k1 + 1) / (s->k1 * norm + tf);
    }
}

static int read_double(PyObject *object, const char *name, double *value)
{
    PyObject *attribute = PyObject_GetAttrString(object, name);
    if (attribute == NULL)
        return -1;
    *value = PyFloat_AsDouble(attribute);
    Py_DECREF(attribute);
    return *value == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* The scorer's variant (its `name`) and parameters; BM25Okapi has no delta. */
static int read_scorer(PyObject *scorer, Scorer *s)
{
    PyObject *name = PyObject_GetAttrString(scorer, "name");
    if (name == NULL)
        return -1;
    const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    s->variant = text == NULL                   ? -1
                 : strcmp(text, "BM25Okapi") == 0 ? OKAPI
                 : strcmp(text, "BM25L") == 0     ? L
                 : strcmp(text, "BM25Plus") == 0  ? PLUS
                                                  : -1;
    Py_DECREF(name);
    if (s->variant < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "score: the scorer is BM25Okapi, BM25L or BM25Plus");
        return -1;
    }
    s->delta = 0;
    if (read_double(scorer, "k1", &s->k1) < 0 || read_double(scorer, "b", &s->b) < 0)
        return -1;
    return s->variant == OKAPI ? 0 : read_double(scorer, "delta", &s->delta);
}

static void clear(double *sum, unsigned char *mark, const int64_t *docs, Py_ssize_t count)
{
    for (Py_ssize_t j = 0; j < count; j++) {
        sum[docs[j]] = 0.0;
        mark[docs[j]] = 0;
    }
}

/* score(docs, tfs, factors, lengths, scorer, avgdl, base, constant, kinds, priors, sums, seen)
 *     -> (found, totals)
 *
 * For each term i, its postings: the passages `docs[i]` (int32) with the term's frequencies `tfs[i]`
 * (uint16). Each passage found once, with the sum over its terms of (tf_weight - base) * factors[i],
 * added in the order of the terms, then `constant`, times priors[kinds[passage]] (float64 and uint8;
 * both None: times nothing), as bytearrays of int64 and float64. `lengths` (float64) are the
 * passages' lengths; `sums` (float64) and `seen` (uint8) are zeros as long as `lengths`, and are zeros
 * again on return. */
static PyObject *score(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 12 || !PyList_Check(args[0]) || !PyList_Check(args[1]) || !PyList_Check(args[2]) ||
        PyList_GET_SIZE(args[0]) != PyList_GET_SIZE(args[1]) ||
        PyList_GET_SIZE(args[0]) != PyList_GET_SIZE(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "score(docs, tfs, factors: lists of one length, lengths, scorer, avgdl, base, constant, kinds, "
                        "priors, sums, seen)");
        return NULL;
    }
    Scorer scorer;
    if (read_scorer(args[4], &scorer) < 0)
        return NULL;
    scorer.avgdl = PyFloat_AsDouble(args[5]);
    scorer.base = PyFloat_AsDouble(args[6]);
    double constant = PyFloat_AsDouble(args[7]);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t terms = PyList_GET_SIZE(args[0]), total = 0, found = 0, held = 0; /* held: buffers taken */
    Py_buffer lengths = {0}, sums = {0}, seen = {0}, kinds = {0}, priors = {0};
    Py_buffer *docs = PyMem_Calloc(terms ? 2 * terms : 1, sizeof(Py_buffer)), *tfs = docs + terms;
    PyObject *found_bytes = NULL, *totals_bytes = NULL;
    if (docs == NULL)
        return PyErr_NoMemory();
    if (PyObject_GetBuffer(args[3], &lengths, PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(args[10], &sums, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0 ||
        PyObject_GetBuffer(args[11], &seen, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    if ((args[8] == Py_None) != (args[9] == Py_None)) {
        PyErr_SetString(PyExc_TypeError, "score: kinds and priors are both given or both None");
        goto done;
    }
    if (args[8] != Py_None && (PyObject_GetBuffer(args[8], &kinds, PyBUF_C_CONTIGUOUS) < 0 ||
                               PyObject_GetBuffer(args[9], &priors, PyBUF_C_CONTIGUOUS) < 0))
        goto done;
    if (lengths.itemsize != 8 || sums.itemsize != 8 || seen.itemsize != 1 || sums.len < lengths.len ||
        seen.len * 8 < lengths.len) {
        PyErr_SetString(PyExc_ValueError, "score: float64 lengths and sums, uint8 seen, as long as lengths");
        goto done;
    }
    Py_ssize_t size = lengths.len / 8;
    if (kinds.obj && (kinds.itemsize != 1 || kinds.len < size || priors.itemsize != 8)) {
        PyErr_SetString(PyExc_ValueError, "score: uint8 kinds as long as lengths, float64 priors");
        goto done;
    }
    const unsigned char *kind = kinds.buf;
    const double *prior = priors.buf;
    for (; held < terms; held++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(args[0], held), &docs[held], PyBUF_C_CONTIGUOUS) < 0)
            goto done;
        if (PyObject_GetBuffer(PyList_GET_ITEM(args[1], held), &tfs[held], PyBUF_C_CONTIGUOUS) < 0) {
            PyBuffer_Release(&docs[held]);
            goto done;
        }
        if (docs[held].itemsize != 4 || tfs[held].itemsize != 2 || docs[held].len / 4 != tfs[held].len / 2) {
            PyBuffer_Release(&docs[held]);
            PyBuffer_Release(&tfs[held]);
            PyErr_SetString(PyExc_ValueError, "score: int32 docs, uint16 tfs, as many of each");
            goto done;
        }
        total += docs[held].len / 4;
    }
    found_bytes = PyByteArray_FromStringAndSize(NULL, total * 8);
    if (found_bytes == NULL)
        goto done;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(found_bytes);
    double *sum = sums.buf;
    const double *length = lengths.buf;
    unsigned char *mark = seen.buf;
    for (Py_ssize_t k = 0; k < terms; k++) {
        double factor = PyFloat_AsDouble(PyList_GET_ITEM(args[2], k));
        if (factor == -1.0 && PyErr_Occurred()) {
            clear(sum, mark, out, found);
            Py_CLEAR(found_bytes);
            goto done;
        }
        const int32_t *d = docs[k].buf;
        const uint16_t *f = tfs[k].buf;
        for (Py_ssize_t i = 0, n = docs[k].len / 4; i < n; i++) {
            int32_t doc = d[i];
            if (doc < 0 || doc >= size) {
                clear(sum, mark, out, found);
                PyErr_SetString(PyExc_IndexError, "score: a doc number beyond lengths");
                Py_CLEAR(found_bytes);
                goto done;
            }
            if (!mark[doc]) {
                mark[doc] = 1;
                out[found++] = doc;
            }
            sum[doc] += (tf_weight(&scorer, f[i], length[doc]) - scorer.base) * factor;
        }
    }
    totals_bytes = PyByteArray_FromStringAndSize(NULL, found * 8);
    if (totals_bytes != NULL) {
        double *totals = (double *)PyByteArray_AS_STRING(totals_bytes);
        for (Py_ssize_t j = 0; j < found; j++) {
            double total = sum[out[j]] + constant;
            if (kind && kind[out[j]] >= priors.len / 8) {
                PyErr_SetString(PyExc_IndexError, "score: a kind without a prior");
                Py_CLEAR(totals_bytes);
                break;
            }
            totals[j] = kind ? total * prior[kind[out[j]]] : total;
        }
    }
    clear(sum, mark, out, found);
    if (totals_bytes == NULL || PyByteArray_Resize(found_bytes, found * 8) < 0) {
        Py_CLEAR(found_bytes);
        Py_CLEAR(totals_bytes);
    }
done:
    for (Py_ssize_t k = 0; k < held; k++) {
        PyBuffer_Release(&docs[k]);
        PyBuffer_Release(&tfs[k]);
    }
    PyMem_Free(docs);
    if (lengths.obj)
        PyBuffer_Release(&lengths);
    if (sums.obj)
        PyBuffer_Release(&sums);
    if (seen.obj)
        PyBuffer_Release(&seen);
    if (kinds.obj)
        PyBuffer_Release(&kinds);
    if (priors.obj)
        PyBuffer_Release(&priors);
    if (found_bytes == NULL || totals_bytes == NULL) {
        Py_XDECREF(found_bytes);
        Py_XDECREF(totals_bytes);
        return NULL;
    }
    return Py_BuildValue("(NN)", found_bytes, totals_bytes);
}

typedef struct {
    double score;
    int64_t tie; /* the passage, or the index: the smaller wins a tie */
    int64_t index;
} Ranked;

/* Whether a ranks before b: the higher score, then the smaller tie. */
static inline int before(const Ranked *a, const Ranked *b)
{
    return a->score > b->score || (a->score == b->score && a->tie < b->tie);
}

static int compare_ranked(const void *a, const void *b)
{
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* The heap's root is the last of those kept: each child ranks before its parent. */
static void sift_down(Ranked *heap, Py_ssize_t size, Py_ssize_t i)
{
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= size)
            return;
        if (child + 1 < size && before(&heap[child], &heap[child + 1]))
            child++;
        if (!before(&heap[i], &heap[child]))
            return;
        Ranked swap = heap[i];
        heap[i] = heap[child];
        heap[child] = swap;
        i = child;
    }
}

/* top(scores, docs, k) -> bytearray of int64: the indices of the k highest float64 `scores`, best
 * first; a tie goes to the smaller of the int64 `docs` (None: the smaller index). One pass with a heap
 * of k: O(n log k), where a partition and a sort would read the scores several times. */
static PyObject *top(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "top(scores, docs or None, k)");
        return NULL;
    }
    Py_ssize_t k = PyLong_AsSsize_t(args[2]);
    if (k == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer scores = {0}, docs = {0};
    PyObject *result = NULL;
    Ranked *heap = NULL;
    if (PyObject_GetBuffer(args[0], &scores, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (args[1] != Py_None && PyObject_GetBuffer(args[1], &docs, PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    Py_ssize_t n = scores.len / 8;
    if (scores.itemsize != 8 || (docs.obj && (docs.itemsize != 8 || docs.len != scores.len))) {
        PyErr_SetString(PyExc_ValueError, "top: float64 scores, and as many int64 docs");
        goto done;
    }
    if (k > n)
        k = n;
    if (k < 0)
        k = 0;
    heap = PyMem_Malloc(sizeof(Ranked) * (k ? k : 1));
    if (heap == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const double *score = scores.buf;
    const int64_t *doc = docs.buf;
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < n && k; i++) {
        Ranked item = {score[i], doc ? doc[i] : i, i};
        if (size < k) { /* sift up */
            Py_ssize_t at = size++;
            while (at > 0 && before(&heap[(at - 1) / 2], &item)) {
                heap[at] = heap[(at - 1) / 2];
                at = (at - 1) / 2;
            }
            heap[at] = item;
        }
        else if (before(&item, &heap[0])) {
            heap[0] = item;
            sift_down(heap, size, 0);
        }
    }
    qsort(heap, size, sizeof(Ranked), compare_ranked);
    result = PyByteArray_FromStringAndSize(NULL, size * 8);
    if (result != NULL) {
        int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
        for (Py_ssize_t i = 0; i < size; i++)
            out[i] = heap[i].index;
    }
done:
    PyMem_Free(heap);
    PyBuffer_Release(&scores);
    if (docs.obj)
        PyBuffer_Release(&docs);
    return result;
}

/* -- snippets ------------------------------------------------------------------------------------------- */

static PyObject *ellipsis; /* "…" */

typedef struct {
    Py_ssize_t start, end;
    PyObject *terms; /* borrowed: a tuple of str */
} Mark;

/* The weight of the terms marked inside [start, end), each once, added in the order they first appear
 * (marks are in text order). -1 with an exception set when a term has no weight. */
static double coverage(const Mark *marks, Py_ssize_t count, Py_ssize_t start, Py_ssize_t end, PyObject *weights,
                       PyObject *counted)
{
    double total = 0.0;
    Py_ssize_t low = 0, high = count;
    while (low < high) { /* the first mark starting at or after `start` */
        Py_ssize_t middle = (low + high) / 2;
        if (marks[middle].start < start)
            low = middle + 1;
        else
            high = middle;
    }
    if (PySet_Clear(counted) < 0)
        return -1.0;
    for (Py_ssize_t i = low; i < count && marks[i].start < end; i++) {
        if (marks[i].end > end)
            continue;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(marks[i].terms); k++) {
            PyObject *term = PyTuple_GET_ITEM(marks[i].terms, k);
            int seen = PySet_Contains(counted, term);
            if (seen < 0 || (!seen && PySet_Add(counted, term) < 0))
                return -1.0;
            if (seen)
                continue;
            PyObject *weight = PyDict_GetItemWithError(weights, term);
            if (weight == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, term);
                return -1.0;
            }
            double value = PyFloat_AsDouble(weight);
            if (value == -1.0 && PyErr_Occurred())
                return -1.0;
            total += value;
        }
    }
    return total;
}

static int read_span(PyObject *item, Py_ssize_t *start, Py_ssize_t *end, int with_terms, PyObject **terms)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != (with_terms ? 3 : 2)) {
        PyErr_SetString(PyExc_TypeError, with_terms ? "snippet: marks are (start, end, terms) tuples"
                                                    : "snippet: sentences are (start, end) tuples");
        return -1;
    }
    *start = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
    *end = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
    if (PyErr_Occurred())
        return -1;
    if (with_terms) {
        *terms = PyTuple_GET_ITEM(item, 2);
        if (!PyTuple_Check(*terms)) {
            PyErr_SetString(PyExc_TypeError, "snippet: a mark's terms are a tuple");
            return -1;
        }
    }
    return 0;
}

static int append_span(PyObject *list, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *span = Py_BuildValue("(nn)", start, end);
    int failed = span == NULL || PyList_Append(list, span) < 0;
    Py_XDECREF(span);
    return failed ? -1 : 0;
}

/* snippet(text, sentences, marks, weights, max_chars) -> (snippet, highlights): python_snippet in
 * search/native.py, which says what it does; both are compared on generated passages. */
static PyObject *snippet(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyUnicode_Check(args[0]) || !PyTuple_Check(args[1]) || !PyList_Check(args[2]) ||
        !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "snippet(text: str, sentences: tuple, marks: list, weights: dict, max_chars: int)");
        return NULL;
    }
    PyObject *text = args[0], *sentences = args[1], *weights = args[3];
    Py_ssize_t max_chars = PyLong_AsSsize_t(args[4]);
    if (max_chars == -1 && PyErr_Occurred())
        return NULL;
    if (max_chars < 1) {
        PyErr_SetString(PyExc_ValueError, "snippet: max_chars is at least 1");
        return NULL;
    }
    Text t;
    read_text(text, &t);
    Py_ssize_t count = PyList_GET_SIZE(args[2]), n_sentences = PyTuple_GET_SIZE(sentences);
    Mark *marks = PyMem_Malloc(sizeof(Mark) * (count ? count : 1));
    PyObject *counted = PySet_New(NULL), *result = NULL, *body = NULL, *highlights = NULL;
    double *covered = NULL;
    if (marks == NULL || counted == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (read_span(PyList_GET_ITEM(args[2], i), &marks[i].start, &marks[i].end, 1, &marks[i].terms) < 0)
            goto done;
    Py_ssize_t start = 0, end = t.length; /* the chosen span */
    if (n_sentences == 1 && read_span(PyTuple_GET_ITEM(sentences, 0), &start, &end, 0, NULL) < 0)
        goto done;
    if (n_sentences > 1) {
        covered = PyMem_Malloc(sizeof(double) * n_sentences);
        if (covered == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        Py_ssize_t best = 0;
        for (Py_ssize_t i = 0; i < n_sentences; i++) {
            Py_ssize_t s, e;
            if (read_span(PyTuple_GET_ITEM(sentences, i), &s, &e, 0, NULL) < 0)
                goto done;
            covered[i] = coverage(marks, count, s, e, weights, counted);
            if (PyErr_Occurred())
                goto done;
            if (covered[i] > covered[best])
                best = i;
        }
        read_span(PyTuple_GET_ITEM(sentences, best), &start, &end, 0, NULL);
        for (Py_ssize_t neighbour = best + 1, k = 0; k < 2; k++, neighbour = best - 1) {
            if (neighbour < 0 || neighbour >= n_sentences)
                continue;
            Py_ssize_t s, e;
            read_span(PyTuple_GET_ITEM(sentences, neighbour), &s, &e, 0, NULL);
            Py_ssize_t wide_start = s < start ? s : start, wide_end = e > end ? e : end;
            double wider = coverage(marks, count, wide_start, wide_end, weights, counted);
            if (PyErr_Occurred())
                goto done;
            if (wide_end - wide_start <= max_chars && (wider > covered[best] || end - start < 80)) {
                start = wide_start;
                end = wide_end;
                break;
            }
        }
    }
    /* The cut: as python's `_cut`. */
    Py_ssize_t span_start = start, span_end = end, first_inside = -1;
    for (Py_ssize_t i = 0; i < count && first_inside < 0; i++)
        if (marks[i].start >= span_start && marks[i].end <= span_end)
            first_inside = i;
    if (end - start > max_chars) {
        Py_ssize_t focus = first_inside >= 0 ? marks[first_inside].start : start;
        Py_ssize_t wanted = focus - max_chars / 4 < end - max_chars ? focus - max_chars / 4 : end - max_chars;
        start = wanted > start ? wanted : start;
        if (start > span_start) { /* text.find(" ", start): start at a word */
            Py_ssize_t space = -1;
            for (Py_ssize_t i = start < 0 ? 0 : start; i < t.length && space < 0; i++)
                if (AT(&t, i) == ' ')
                    space = i;
            start = space >= 0 && space < start + 30 ? space + 1 : start;
        }
        end = start + max_chars < end ? start + max_chars : end;
        if (end < span_end) { /* text.rfind(" ", start, end): end at a word */
            Py_ssize_t space = -1;
            for (Py_ssize_t i = (end < t.length ? end : t.length) - 1; i >= (start < 0 ? 0 : start) && space < 0; i--)
                if (AT(&t, i) == ' ')
                    space = i;
            end = space > start ? space : end;
        }
    }
    int prefix = start > span_start, suffix = end < span_end;
    Py_ssize_t low = start < 0 ? 0 : start > t.length ? t.length : start;
    Py_ssize_t high = end < low ? low : end > t.length ? t.length : end;
    Py_ssize_t body_start = low, body_end = high; /* piece.strip() */
    while (body_start < body_end && is_space(AT(&t, body_start)))
        body_start++;
    while (body_end > body_start && is_space(AT(&t, body_end - 1)))
        body_end--;
    Py_ssize_t offset = start + (body_end > body_start ? body_start - low : 0) - prefix;
    body = PyUnicode_Substring(text, body_start, body_end);
    if (body == NULL)
        goto done;
    if (prefix) {
        Py_SETREF(body, PyUnicode_Concat(ellipsis, body));
        if (body == NULL)
            goto done;
    }
    if (suffix) {
        Py_SETREF(body, PyUnicode_Concat(body, ellipsis));
        if (body == NULL)
            goto done;
    }
    Text made;
    read_text(body, &made);
    highlights = PyList_New(0);
    if (highlights == NULL)
        goto done;
    Py_ssize_t last_start = 0, last_end = 0, kept = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t s = marks[i].start, e = marks[i].end;
        if (!(s >= span_start && e <= span_end && s >= start && e <= end))
            continue;
        s -= offset;
        e -= offset;
        int blank = 1; /* not snippet[last_end:s].strip() */
        for (Py_ssize_t j = last_end < 0 ? 0 : last_end; kept && j < s && j < made.length; j++)
            if (!is_space(AT(&made, j)))
                blank = 0;
        if (kept && blank) {
            last_end = e;
            continue;
        }
        if (kept && append_span(highlights, last_start, last_end) < 0)
            goto done;
        last_start = s;
        last_end = e;
        kept = 1;
    }
    if (kept && append_span(highlights, last_start, last_end) < 0)
        goto done;
    result = Py_BuildValue("(ON)", body, PyList_AsTuple(highlights));
done:
    PyMem_Free(marks);
    PyMem_Free(covered);
    Py_XDECREF(counted);
    Py_XDECREF(body);
    Py_XDECREF(highlights);
    return result;
}

static PyMethodDef methods[] = {
    {"find_words", (PyCFunction)find_words, METH_O, "WORD_RE.findall(text)."},
    {"mark_words", (PyCFunction)(void (*)(void))mark_words, METH_FASTCALL,
     "(start, end, known[word]) for the words of text in known; the other distinct words not met."},
    {"word_set", (PyCFunction)word_set, METH_O, "The distinct words of text.lower().split(), as sorted hashes."},
    {"near_copy", (PyCFunction)(void (*)(void))near_copy, METH_FASTCALL,
     "Whether the Jaccard similarity of words with one of seen is at least threshold."},
    {"score", (PyCFunction)(void (*)(void))score, METH_FASTCALL,
     "Each passage of the postings once, with its BM25 score (bytearrays of int64 and float64)."},
    {"top", (PyCFunction)(void (*)(void))top, METH_FASTCALL,
     "The indices of the k highest scores, best first, ties to the smaller doc (bytearray of int64)."},
    {"snippet", (PyCFunction)(void (*)(void))snippet, METH_FASTCALL,
     "The best sentence or two of a text for the marks, cut, with the marks' spans in it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "search._native", "The per-hit text work of a query, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    for (Py_UCS4 c = 0; c < 128; c++)
        ascii_classes[c] = (c == '_' || Py_UNICODE_ISALNUM(c) ? WORD : 0) | (Py_UNICODE_ISDECIMAL(c) ? DIGIT : 0) |
                           (Py_UNICODE_ISSPACE(c) ? SPACE : 0);
    if (PyType_Ready(&WordHashesType) < 0)
        return NULL;
    ellipsis = PyUnicode_FromString("\xe2\x80\xa6"); /* U+2026 in UTF-8 */
    if (ellipsis == NULL)
        return NULL;
    PyObject *created = PyModule_Create(&module);
    if (created != NULL && PyModule_AddObjectRef(created, "WordHashes", (PyObject *)&WordHashesType) < 0)
        Py_CLEAR(created);
    return created;
}
