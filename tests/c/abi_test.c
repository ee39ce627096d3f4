/* A plain C caller of the all-types test cdylib (tests/src/lib.rs), through
 * the documented C contract only: owned returns and their paired frees
 * (including freeing twice and freeing NULL), the error channel, panics,
 * invalid arguments, object handles and callbacks.
 *
 * tests/python/test_c_abi.py compiles it with `gcc -Wall -Wextra -Werror`
 * and runs it normally and under valgrind memcheck (zero leaks, zero
 * invalid accesses). The prototypes are written by hand from the README's
 * C contract; exits non-zero on the first failed check. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { void *ptr; size_t len; size_t cap; } FfiBuffer;
/* variant: the index of an #[export] error's variant (-1: none); value: that
 * error in its C form, owned until ffi_export_error_free (NULL: none). */
typedef struct { int32_t code; int32_t variant; FfiBuffer message; FfiBuffer type_name; void *value; } FfiError;
typedef struct { uint8_t is_some; int32_t value; } FfiOptionI32;
typedef struct { uint8_t is_some; uint32_t value; } FfiOptionU32;
typedef struct { uint8_t is_some; FfiBuffer value; } FfiOptionBuffer;
typedef struct { const void *call; void *context; } FfiCallback;

typedef struct { FfiBuffer city; FfiOptionU32 zip; } Address_repr;
typedef struct {
    FfiBuffer name;
    uint32_t age;
    FfiOptionBuffer email;
    FfiBuffer tags;   /* of FfiBuffer (strings) */
    FfiBuffer scores; /* of double */
    Address_repr address;
    uint8_t kind;
    uint8_t active;
} Person_repr;
typedef struct { uint8_t is_some; Person_repr value; } FfiOptionPerson;
typedef struct { FfiBuffer label; FfiBuffer children; /* of Tree_repr */ } Tree_repr;
/* The typed errors of tests/src/lib.rs `typed_errors`. */
typedef struct {
    uint32_t tag; /* 0 DivisionByZero, 1 IntegerOverflow, 2 OutOfRange */
    union {
        struct { int64_t a; int64_t b; FfiBuffer op; } IntegerOverflow;
        struct { int64_t _0; FfiBuffer _1; } OutOfRange;
        uint8_t none_;
    } data;
} ArithmeticError_repr;
typedef int32_t Denied; /* Anonymous = 10, Locked = -20, OverQuota = 30 */
typedef struct { FfiBuffer field; FfiBuffer reason; uint32_t code; FfiOptionBuffer hint; } ValidationError_repr;

enum { OK = 0, ERROR = 1, PANIC = 2, INVALID_ARGUMENT = 3, CALLBACK_FAILED = 4 };

extern uint64_t FFI_EXPORT_FAULTS;
bool ffi_export_error_take(FfiError *out);
void ffi_export_error_free(FfiError *err);
const char *ffi_export_describe(void);
uint32_t ffi_export_abi_version(void);

int32_t echo_i32(int32_t value);
bool echo_bool(uint8_t value);
double sum_f64(const double *ptr, size_t len);
size_t fill_i32(int32_t *ptr, size_t len, int32_t value);
size_t count_true(const uint8_t *ptr, size_t len);
size_t char_count(const uint8_t *ptr, size_t len);
FfiBuffer reverse(const uint8_t *ptr, size_t len);
void reverse_free(FfiBuffer *buffer);
FfiBuffer shout(const char *text);
void shout_free(FfiBuffer *buffer);
FfiBuffer make_string(size_t n);
void make_string_free(FfiBuffer *buffer);
FfiBuffer vec_f64(size_t n);
void vec_f64_free(FfiBuffer *buffer);
FfiOptionI32 opt_i32(int32_t value, uint8_t some);
FfiOptionBuffer non_empty(const uint8_t *ptr, size_t len);
void non_empty_free(FfiOptionBuffer *option);
int64_t parse_int(const uint8_t *ptr, size_t len);
FfiBuffer greet(const uint8_t *ptr, size_t len);
void greet_free(FfiBuffer *buffer);
int32_t panic_now(const uint8_t *ptr, size_t len);
FfiBuffer panic_after_alloc(size_t n);
void panic_after_alloc_free(FfiBuffer *buffer);
FfiBuffer panic_any(void);
void panic_any_free(FfiBuffer *buffer);
int32_t bad_display(void);
FfiBuffer split_words(const uint8_t *ptr, size_t len);
void split_words_free(FfiBuffer *buffer);
FfiBuffer join(const FfiBuffer *words, size_t len, const uint8_t *sep, size_t sep_len);
void join_free(FfiBuffer *buffer);
Person_repr make_person(const uint8_t *ptr, size_t len, uint32_t age);
void make_person_free(Person_repr *person);
FfiBuffer describe_person(const Person_repr *person);
void describe_person_free(FfiBuffer *buffer);
FfiOptionPerson maybe_person(uint8_t some);
void maybe_person_free(FfiOptionPerson *option);
FfiBuffer people(uint32_t n);
void people_free(FfiBuffer *buffer);
Tree_repr tree(uint32_t depth);
void tree_free(Tree_repr *tree);
uint32_t count_nodes(const Tree_repr *tree);
uint8_t next_kind(uint8_t kind);
uint64_t Counter_new(uint64_t start, const uint8_t *ptr, size_t len);
uint64_t Counter_add(uint64_t handle, uint64_t by);
uint64_t Counter_get(uint64_t handle);
uint64_t Counter_explode(uint64_t handle);
FfiBuffer Counter_label(uint64_t handle);
void Counter_label_free(FfiBuffer *buffer);
void Counter_free(uint64_t handle);
size_t Counter_live(void);
uint64_t Gauge_new(int64_t level);
int64_t Gauge_level(uint64_t handle);
void Gauge_free(uint64_t handle);
FfiBuffer counters(uint32_t n);
void counters_free(FfiBuffer *buffer);
size_t count_where(const int64_t *ptr, size_t len, FfiCallback keep);
FfiBuffer each_square(uint32_t n, FfiCallback visit);
void each_square_free(FfiBuffer *buffer);
size_t is_even_batch(size_t len, const int64_t *n, size_t n_step, bool *out);
size_t checked_add_batch(size_t len, const int32_t *a, size_t a_step, const int32_t *b,
                         size_t b_step, int32_t *out);
bool ffi_export_error_take_since(uint64_t since, FfiError *out);
int64_t checked_div(int64_t a, int64_t b);
int64_t in_range(int64_t value, int64_t low, int64_t high);
uint8_t check_access(uint8_t level);
uint32_t validate_age(int64_t age);
FfiBuffer fail_with_text(const uint8_t *ptr, size_t len, size_t times);
void fail_with_text_free(FfiBuffer *buffer);

static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

#define S(text) (const uint8_t *)(text), strlen(text)

/* The latest call's error code, checking the message contains `needle`, and
 * exercising take/free (including a second free and free(NULL)). */
static int32_t last_error(const char *needle) {
    FfiError err;
    memset(&err, 0xAB, sizeof err); /* take must overwrite everything */
    bool found = ffi_export_error_take(&err);
    int32_t code = err.code;
    CHECK(found == (code != OK));
    if (found) {
        CHECK(err.message.ptr != NULL && err.type_name.ptr != NULL);
        CHECK(((const char *)err.message.ptr)[err.message.len] == '\0');
        if (needle && !strstr((const char *)err.message.ptr, needle)) {
            fprintf(stderr, "message %s lacks %s\n", (const char *)err.message.ptr, needle);
            failures++;
        }
        /* Only an Err of an #[export] type carries a value (and a variant). */
        CHECK(code == ERROR || (err.value == NULL && err.variant == -1));
    } else {
        CHECK(err.message.ptr == NULL && err.type_name.ptr == NULL);
        CHECK(err.value == NULL && err.variant == -1);
    }
    ffi_export_error_free(&err);
    CHECK(err.code == OK && err.message.ptr == NULL && err.value == NULL && err.variant == -1);
    ffi_export_error_free(&err);
    ffi_export_error_free(NULL);
    /* taken: a second take finds nothing */
    CHECK(!ffi_export_error_take(NULL));
    return code;
}

static void check_ok(void) { CHECK(last_error(NULL) == OK); }

static void test_primitives_and_errors(void) {
    uint64_t faults = FFI_EXPORT_FAULTS;
    CHECK(echo_i32(-5) == -5);
    check_ok();
    CHECK(FFI_EXPORT_FAULTS == faults);
    CHECK(echo_bool(1) == true);
    CHECK(echo_bool(2) == false);
    CHECK(FFI_EXPORT_FAULTS == faults + 1);
    CHECK(last_error("2 is not a bool") == INVALID_ARGUMENT);

    double values[3] = {1.0, 2.0, 3.5};
    CHECK(sum_f64(values, 3) == 6.5);
    CHECK(sum_f64(NULL, 0) == 0.0);
    check_ok();
    CHECK(sum_f64(NULL, 3) == 0.0);
    CHECK(last_error("NULL pointer with length 3") == INVALID_ARGUMENT);
    CHECK(sum_f64(values, SIZE_MAX / 2) == 0.0); /* huge length: refused, never read */
    CHECK(last_error("too large") == INVALID_ARGUMENT);
    CHECK(sum_f64((const double *)((const char *)values + 1), 2) == 0.0);
    CHECK(last_error("not aligned") == INVALID_ARGUMENT);
    int32_t out[4] = {0};
    CHECK(fill_i32(out, 4, 9) == 4 && out[3] == 9);
    CHECK(fill_i32(NULL, 1, 9) == 0);
    CHECK(last_error("NULL pointer") == INVALID_ARGUMENT);
    uint8_t bools[3] = {1, 0, 7};
    CHECK(count_true(bools, 2) == 1);
    CHECK(count_true(bools, 3) == 0);
    CHECK(last_error("not valid `bool`") == INVALID_ARGUMENT);

    CHECK(char_count(S("héllo")) == 5);
    CHECK(char_count((const uint8_t *)"ok\xff", 3) == 0);
    CHECK(last_error("invalid UTF-8") == INVALID_ARGUMENT);
    CHECK(char_count(NULL, 0) == 0);
    check_ok();

    CHECK(parse_int(S(" 42 ")) == 42);
    CHECK(parse_int(S("x")) == 0);
    CHECK(last_error("invalid digit") == ERROR);
    CHECK(panic_now(S("boom in C")) == 0);
    CHECK(last_error("boom in C") == PANIC);
    CHECK(bad_display() == 0);
    CHECK(last_error(NULL) == PANIC);
    CHECK(next_kind(1) == 2);
    CHECK(next_kind(3) == 0);
    CHECK(last_error("3") == INVALID_ARGUMENT);

    CHECK(ffi_export_abi_version() > 0);
    CHECK(strstr(ffi_export_describe(), "\"exports\"") != NULL);
}

static void test_strings_and_vectors(void) {
    FfiBuffer s = reverse(S("abc"));
    CHECK(s.len == 3 && memcmp(s.ptr, "cba", 4) == 0); /* NUL-terminated */
    reverse_free(&s);
    CHECK(s.ptr == NULL && s.len == 0);
    reverse_free(&s); /* double free of the same struct: no-op */
    reverse_free(NULL);

    FfiBuffer big = make_string(1000);
    CHECK(big.len == 1000);
    make_string_free(&big);
    make_string_free(&big);
    make_string_free(NULL);

    FfiBuffer shouted = shout("quiet");
    CHECK(strcmp((const char *)shouted.ptr, "QUIET") == 0);
    shout_free(&shouted);
    shout_free(&shouted);
    shouted = shout(NULL);
    CHECK(shouted.ptr == NULL);
    CHECK(last_error("NULL pointer") == INVALID_ARGUMENT);
    shout_free(&shouted); /* freeing the NULL buffer of a failed call */

    FfiBuffer v = vec_f64(5);
    CHECK(v.len == 5 && ((double *)v.ptr)[4] == 4.0);
    vec_f64_free(&v);
    vec_f64_free(&v);
    vec_f64_free(NULL);
    FfiBuffer empty = vec_f64(0);
    vec_f64_free(&empty);

    FfiBuffer g = greet(S(""));
    CHECK(g.ptr == NULL);
    CHECK(last_error("empty name") == ERROR);
    greet_free(&g);
    g = greet(S("C"));
    CHECK(strcmp((const char *)g.ptr, "Hello, C!") == 0);
    greet_free(&g);
    greet_free(&g);

    FfiBuffer words = split_words(S("one two  three"));
    CHECK(words.len == 3);
    CHECK(strcmp((const char *)((FfiBuffer *)words.ptr)[2].ptr, "three") == 0);
    FfiBuffer joined = join((const FfiBuffer *)words.ptr, words.len, S("+"));
    CHECK(strcmp((const char *)joined.ptr, "one+two+three") == 0);
    join_free(&joined);
    join_free(&joined);
    split_words_free(&words); /* deep: every string, then the array */
    split_words_free(&words);
    split_words_free(NULL);
    FfiBuffer bad_items[2] = {{(void *)"ok", 2, 0}, {NULL, 4, 0}};
    joined = join(bad_items, 2, S(","));
    CHECK(joined.ptr == NULL);
    CHECK(last_error("item 1: NULL pointer with length 4") == INVALID_ARGUMENT);
    join_free(&joined);

    FfiOptionI32 some = opt_i32(3, 1), none = opt_i32(3, 0);
    CHECK(some.is_some == 1 && some.value == 3 && none.is_some == 0);
    CHECK(opt_i32(3, 5).is_some == 0);
    CHECK(last_error("5 is not a bool") == INVALID_ARGUMENT);
    FfiOptionBuffer text = non_empty(S("here"));
    CHECK(text.is_some == 1 && strcmp((const char *)text.value.ptr, "here") == 0);
    non_empty_free(&text);
    CHECK(text.is_some == 0);
    non_empty_free(&text);
    non_empty_free(NULL);
    text = non_empty(S(""));
    CHECK(text.is_some == 0);
    non_empty_free(&text);
}

static void test_panics_around_allocations(void) {
    for (int i = 0; i < 50; i++) {
        FfiBuffer held = panic_after_alloc(100); /* allocated, then panicked */
        CHECK(held.ptr == NULL);
        CHECK(last_error("holding 100 values") == PANIC);
        panic_after_alloc_free(&held);
        FfiBuffer fine = panic_after_alloc(0);
        check_ok();
        panic_after_alloc_free(&fine);
        FfiBuffer any = panic_any();
        CHECK(any.ptr == NULL);
        CHECK(last_error(NULL) == PANIC);
        panic_any_free(&any);
    }
}

static void test_records(void) {
    Person_repr ada = make_person(S("Ada"), 36);
    CHECK(ada.age == 36 && strcmp((const char *)ada.name.ptr, "Ada") == 0);
    CHECK(ada.email.is_some == 1 && ada.tags.len == 2 && ada.scores.len == 2);
    CHECK(ada.address.zip.is_some == 1 && ada.address.zip.value == 75001 && ada.kind == 2);
    FfiBuffer line = describe_person(&ada);
    CHECK(line.ptr != NULL && strstr((const char *)line.ptr, "Ada (36, User) in Paris") != NULL);
    describe_person_free(&line);
    /* A record built by C with a bad field is refused with its path. */
    Person_repr forged = ada;
    forged.kind = 99;
    line = describe_person(&forged);
    CHECK(line.ptr == NULL);
    CHECK(last_error("99") == INVALID_ARGUMENT);
    forged = ada;
    forged.active = 3;
    line = describe_person(&forged);
    CHECK(last_error("3 is not a bool") == INVALID_ARGUMENT);
    forged = ada;
    forged.email.is_some = 9;
    line = describe_person(&forged);
    CHECK(last_error("9 is not a bool") == INVALID_ARGUMENT);
    forged = ada;
    forged.tags.len = 1000; /* NULL + length would be refused too */
    forged.tags.ptr = NULL;
    line = describe_person(&forged);
    CHECK(last_error("NULL pointer with length 1000") == INVALID_ARGUMENT);
    line = describe_person(NULL);
    CHECK(last_error("NULL") == INVALID_ARGUMENT);
    describe_person_free(&line);

    make_person_free(&ada); /* deep free: name, email, tags, scores, city */
    CHECK(ada.name.ptr == NULL && ada.tags.ptr == NULL && ada.email.is_some == 0);
    make_person_free(&ada);
    make_person_free(NULL);

    FfiOptionPerson maybe = maybe_person(1);
    CHECK(maybe.is_some == 1 && maybe.value.age == 30);
    maybe_person_free(&maybe);
    CHECK(maybe.is_some == 0);
    maybe_person_free(&maybe);
    maybe_person_free(NULL);
    maybe = maybe_person(0);
    CHECK(maybe.is_some == 0);
    maybe_person_free(&maybe);

    FfiBuffer crowd = people(4);
    CHECK(crowd.len == 4 && ((Person_repr *)crowd.ptr)[3].age == 13);
    people_free(&crowd);
    people_free(&crowd);
    people_free(NULL);

    Tree_repr t = tree(4);
    CHECK(t.children.len == 2);
    CHECK(count_nodes(&t) == 31);
    tree_free(&t);
    CHECK(t.label.ptr == NULL && t.children.ptr == NULL);
    tree_free(&t);
    tree_free(NULL);
}

static void test_objects(void) {
    size_t live = Counter_live();
    uint64_t c = Counter_new(5, S("c"));
    CHECK(c != 0);
    CHECK(Counter_live() == live + 1);
    CHECK(Counter_add(c, 2) == 7);
    CHECK(Counter_add(c, UINT64_MAX) == 0);
    CHECK(last_error("counter overflow") == ERROR);
    CHECK(Counter_get(c) == 7);
    FfiBuffer label = Counter_label(c);
    CHECK(strcmp((const char *)label.ptr, "c") == 0);
    Counter_label_free(&label);
    Counter_label_free(&label);
    CHECK(Counter_explode(c) == 0);
    CHECK(last_error("exploded") == PANIC);
    CHECK(Counter_get(c) == 7); /* a &self panic does not poison */

    uint64_t gauge = Gauge_new(-3);
    CHECK(Gauge_level(gauge) == -3);
    CHECK(Counter_get(gauge) == 0); /* foreign handle */
    CHECK(last_error("is a `Gauge`, not a `Counter`") == INVALID_ARGUMENT);
    Counter_free(gauge); /* refused: wrong type, the gauge lives on */
    CHECK(last_error("not a `Counter`") == INVALID_ARGUMENT);
    CHECK(Gauge_level(gauge) == -3);
    Gauge_free(gauge);
    Gauge_free(gauge);
    CHECK(Counter_get(0) == 0);
    CHECK(last_error("not a live") == INVALID_ARGUMENT);
    CHECK(Counter_get(0xDEADBEEF) == 0);
    CHECK(last_error("not a live") == INVALID_ARGUMENT);

    Counter_free(c);
    CHECK(Counter_live() == live);
    CHECK(Counter_get(c) == 0); /* closed handle */
    CHECK(last_error("not a live") == INVALID_ARGUMENT);
    Counter_free(c); /* double free: no-op */
    Counter_free(0);
    check_ok();

    FfiBuffer many = counters(3);
    CHECK(many.len == 3 && Counter_live() == live + 3);
    uint64_t *handles = (uint64_t *)many.ptr;
    CHECK(Counter_get(handles[2]) == 2);
    for (size_t i = 0; i < many.len; i++) Counter_free(handles[i]);
    counters_free(&many);
    counters_free(&many);
    CHECK(Counter_live() == live);
}

static bool keep_even(void *context, uint8_t *failed, int64_t value) {
    (void)failed;
    ++*(int *)context;
    return value % 2 == 0;
}

static bool fail_on_three(void *context, uint8_t *failed, int64_t value) {
    (void)context;
    if (value == 3) *failed = 1;
    return false;
}

static uint8_t not_a_bool(void *context, uint8_t *failed, int64_t value) {
    (void)context, (void)failed, (void)value;
    return 7;
}

static void visit_fail_at_2(void *context, uint8_t *failed, uint32_t i, uint64_t square) {
    (void)context, (void)square;
    if (i == 2) *failed = 1;
}

static void test_callbacks_and_batches(void) {
    int64_t values[5] = {1, 2, 3, 4, 5};
    int calls = 0;
    FfiCallback keep = {(const void *)keep_even, &calls};
    CHECK(count_where(values, 5, keep) == 2 && calls == 5);
    FfiCallback failing = {(const void *)fail_on_three, NULL};
    CHECK(count_where(values, 5, failing) == 0);
    CHECK(last_error(NULL) == CALLBACK_FAILED);
    FfiCallback invalid = {(const void *)not_a_bool, NULL};
    CHECK(count_where(values, 5, invalid) == 0);
    CHECK(last_error("invalid value") == PANIC);
    FfiCallback null_callback = {NULL, NULL};
    CHECK(count_where(values, 5, null_callback) == 0);
    CHECK(last_error("NULL callback") == INVALID_ARGUMENT);
    /* A callback failing while the Rust side holds a String: unwound, freed. */
    FfiCallback visit = {(const void *)visit_fail_at_2, NULL};
    FfiBuffer log = each_square(5, visit);
    CHECK(log.ptr == NULL);
    CHECK(last_error(NULL) == CALLBACK_FAILED);
    each_square_free(&log);
    log = each_square(2, visit);
    CHECK(strcmp((const char *)log.ptr, "visited 0 1") == 0);
    each_square_free(&log);
    each_square_free(&log);

    int32_t a[4] = {1, 2, INT32_MAX, 4}, out[4] = {0};
    int32_t one = 10;
    CHECK(checked_add_batch(2, a, 1, &one, 0, out) == 2 && out[1] == 12);
    CHECK(checked_add_batch(4, a, 1, &one, 0, out) == 0);
    CHECK(last_error("element 2") == ERROR);
    CHECK(checked_add_batch(4, a, 2, &one, 0, out) == 0);
    CHECK(last_error("step 2") == INVALID_ARGUMENT);
    CHECK(checked_add_batch(4, NULL, 1, &one, 0, out) == 0);
    CHECK(last_error("NULL pointer") == INVALID_ARGUMENT);
    CHECK(checked_add_batch(0, NULL, 1, NULL, 0, NULL) == 0);
    check_ok();
    int64_t numbers[3] = {2, 13, 4};
    bool even[3] = {false, false, false};
    CHECK(is_even_batch(3, numbers, 1, even) == 0); /* element 1 panics */
    CHECK(last_error("element 1: unlucky 13") == PANIC);
    CHECK(even[0] == true);
    CHECK(is_even_batch(1, numbers, 1, even) == 1);
    check_ok();
}

static bool text_is(FfiBuffer buffer, const char *text) {
    return buffer.len == strlen(text) && memcmp(buffer.ptr, text, buffer.len) == 0;
}

/* Takes the latest call's error, which must be a typed one. */
static FfiError take_typed(const char *type_name) {
    FfiError err;
    memset(&err, 0xAB, sizeof err);
    CHECK(ffi_export_error_take(&err));
    CHECK(err.code == ERROR && text_is(err.type_name, type_name) && err.value != NULL);
    return err;
}

/* Fails `times` times without taking the errors (a careless C caller). */
static void *fail_untaken(void *times) {
    for (size_t i = 0; i < (size_t)times; i++) {
        FfiBuffer none = fail_with_text(S("untaken"), 100);
        CHECK(none.ptr == NULL);
    }
    return NULL;
}

static void test_typed_errors(void) {
    /* A unit variant: the variant's index, the value's tag. */
    CHECK(checked_div(1, 0) == 0);
    FfiError err = take_typed("ArithmeticError");
    const ArithmeticError_repr *value = err.value;
    CHECK(err.variant == 0 && value->tag == 0 && text_is(err.message, "division by zero"));
    ffi_export_error_free(&err);
    CHECK(err.value == NULL && err.variant == -1);
    ffi_export_error_free(&err);

    /* A struct variant, read through the value; a copy of the struct freed
     * after the original is ignored (valgrind sees no double free). */
    CHECK(checked_div(INT64_MIN, -1) == 0);
    err = take_typed("ArithmeticError");
    value = err.value;
    CHECK(err.variant == 1 && value->tag == 1);
    CHECK(value->data.IntegerOverflow.a == INT64_MIN && value->data.IntegerOverflow.b == -1);
    CHECK(text_is(value->data.IntegerOverflow.op, "/"));
    FfiError copy = err;
    ffi_export_error_free(&err);
    copy.message.ptr = NULL; /* (the buffers have no such guard: only the value) */
    copy.type_name.ptr = NULL;
    ffi_export_error_free(&copy);

    /* A tuple variant, taken with take_since. */
    uint64_t before = FFI_EXPORT_FAULTS;
    CHECK(in_range(5, 0, 3) == 0);
    CHECK(echo_i32(1) == 1); /* another call meanwhile */
    CHECK(ffi_export_error_take_since(before, &err));
    value = err.value;
    CHECK(err.variant == 2 && value->data.OutOfRange._0 == 5 && text_is(value->data.OutOfRange._1, "not in 0..=3"));
    ffi_export_error_free(&err);

    /* A field-less enum: the variant's index; the value is the discriminant. */
    CHECK(check_access(2) == 0);
    err = take_typed("Denied");
    CHECK(err.variant == 1 && *(const Denied *)err.value == -20);
    ffi_export_error_free(&err);

    /* A record: variant -1, the value is its C form. */
    CHECK(validate_age(-3) == 0);
    err = take_typed("ValidationError");
    const ValidationError_repr *invalid = err.value;
    CHECK(err.variant == -1 && invalid->code == 422 && text_is(invalid->field, "age"));
    CHECK(invalid->hint.is_some == 1 && text_is(invalid->hint.value, "a positive number"));
    ffi_export_error_free(&err);

    /* A forged value is ignored, never freed. */
    ArithmeticError_repr forged = {0};
    FfiError fake = {ERROR, 0, {NULL, 0, 0}, {NULL, 0, 0}, &forged};
    ffi_export_error_free(&fake);
    CHECK(fake.value == NULL);

    /* Errors nobody takes: past 16 on a thread the oldest are dropped, and a
     * thread's are dropped when it exits; their values are freed then. */
    fail_untaken((void *)40);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, fail_untaken, (void *)5) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    /* The errors kept here are this thread's until it takes them. */
    before = FFI_EXPORT_FAULTS - 40 - 5;
    int kept = 0;
    while (ffi_export_error_take_since(before, &err)) {
        kept += err.code == ERROR;
        ffi_export_error_free(&err);
    }
    CHECK(kept == 16);
}

int main(void) {
    int rounds = 3;
    for (int i = 0; i < rounds; i++) {
        test_typed_errors();
        test_primitives_and_errors();
        test_strings_and_vectors();
        test_panics_around_allocations();
        test_records();
        test_objects();
        test_callbacks_and_batches();
    }
#ifdef ABI_TEST_CONTROL_FAIL
    CHECK(1 + 1 == 3); /* control: the harness sees a failed check */
#endif
#ifdef ABI_TEST_CONTROL_LEAK
    make_string(999); /* control: valgrind sees this unfreed buffer */
#endif
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("abi_test: all checks passed\n");
    return 0;
}
