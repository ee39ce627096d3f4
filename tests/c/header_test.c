/* Calls the all-types test cdylib through the header that
 * `python ffi_export.py header libffi_export_tests.so` writes: strings,
 * records, vectors, options, callbacks, batches, objects and the error
 * channel, every owned result released through its paired free.
 * Built by tests/python/test_header.py with -Wall -Wextra -Werror -std=c11. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "ffi_export_tests.h"

#define STR(s) (const uint8_t *)(s), strlen(s)

static void report_error(const char *what) {
    FfiError error;
    if (ffi_export_error_take(&error)) {
        printf("%s: error code %d, %.*s: %.*s\n", what, (int)error.code, (int)error.type_name.len,
               (const char *)error.type_name.ptr, (int)error.message.len, (const char *)error.message.ptr);
        ffi_export_error_free(&error);
        ffi_export_error_free(&error); /* idempotent */
    } else {
        printf("%s: no error\n", what);
    }
}

#define TEXT(buffer) (int)(buffer).len, (const char *)(buffer).ptr

/* An #[export] error: FfiError.variant names the variant (a <Type>_<Variant>_tag
 * constant), FfiError.value points to the value's C form until the free. */
static void report_typed_error(const char *what) {
    FfiError error;
    if (!ffi_export_error_take(&error)) {
        printf("%s: no error\n", what);
        return;
    }
    printf("%s: %.*s, variant %d:", what, TEXT(error.type_name), (int)error.variant);
    if (strncmp(error.type_name.ptr, "ArithmeticError", error.type_name.len) == 0) {
        const ArithmeticError_repr *value = error.value;
        switch (error.variant) {
        case ArithmeticError_DivisionByZero_tag:
            printf(" DivisionByZero");
            break;
        case ArithmeticError_IntegerOverflow_tag:
            printf(" IntegerOverflow a=%lld b=%lld op=%.*s", (long long)value->data.IntegerOverflow.a,
                   (long long)value->data.IntegerOverflow.b, TEXT(value->data.IntegerOverflow.op));
            break;
        case ArithmeticError_OutOfRange_tag:
            printf(" OutOfRange %lld %.*s", (long long)value->data.OutOfRange._0, TEXT(value->data.OutOfRange._1));
            break;
        }
        printf(" (tag %u)", (unsigned)value->tag);
    } else if (strncmp(error.type_name.ptr, "Denied", error.type_name.len) == 0) {
        const Denied *value = error.value;
        printf(" locked %s, discriminant %d", error.variant == Denied_Locked_tag ? "yes" : "no", (int)*value);
    } else if (strncmp(error.type_name.ptr, "ValidationError", error.type_name.len) == 0) {
        const ValidationError_repr *value = error.value;
        printf(" field %.*s, reason %.*s, code %u, hint %.*s", TEXT(value->field), TEXT(value->reason),
               (unsigned)value->code, TEXT(value->hint.value));
    } else {
        printf(" value %s", error.value == NULL ? "NULL" : "set");
    }
    printf(": %.*s\n", TEXT(error.message));
    ffi_export_error_free(&error);
    ffi_export_error_free(&error); /* idempotent */
    printf("%s freed: %s\n", what, error.value == NULL && error.variant == -1 ? "yes" : "no");
}

static double triple(void *context, uint8_t *failed, double value) {
    (void)failed;
    *(int *)context += 1;
    return value * 3;
}

/* A `&dyn Fn(String) -> Result<i32, ListenerError>` implemented in C: the
 * length of each word, "busy" is an error value, "fail" fails the call. */
static int c_parse_refs;

static void c_parse_retain(void *context) { *(int *)context += 1; }

static void c_parse_release(void *context) { *(int *)context -= 1; }

static int32_t c_parse_call(void *context, uint32_t method, void *const *args, void *ok, void *err,
                            FfiBuffer *message) {
    (void)context;
    (void)method; /* a callback has one method, number 0 */
    (void)message;
    const FfiBuffer *word = args[0]; /* Rust's, valid for this call */
    if (word->len == 4 && memcmp(word->ptr, "busy", 4) == 0) {
        ((ListenerError_repr *)err)->tag = ListenerError_Busy_tag;
        return 1;
    }
    if (word->len == 4 && memcmp(word->ptr, "fail", 4) == 0) {
        return 2;
    }
    *(int32_t *)ok = (int32_t)word->len;
    return 0;
}

/* The trait Button implemented in C: an FfiForeign dispatching on the method
 * number, counting the references Rust holds. */
typedef struct {
    int refs;
    unsigned presses;
    char text[64];
} CButton;

static void c_button_retain(void *context) { ((CButton *)context)->refs += 1; }

static void c_button_release(void *context) { ((CButton *)context)->refs -= 1; }

static int32_t c_button_call(void *context, uint32_t method, void *const *args, void *ok, void *err,
                             FfiBuffer *message) {
    CButton *button = context;
    (void)err; /* no method of Button returns a Result */
    switch (method) {
    case 0: /* press(uint32_t times) -> String */
        button->presses += *(const uint32_t *)args[0];
        snprintf(button->text, sizeof button->text, "c: %u", button->presses);
        break;
    case 1: /* label() -> String */
        snprintf(button->text, sizeof button->text, "c-button");
        break;
    default:
        message->ptr = (void *)"no such method";
        message->len = strlen("no such method");
        message->cap = 0;
        return 2;
    }
    FfiBuffer *out = ok; /* a String's C form, ours until our next call */
    out->ptr = button->text;
    out->len = strlen(button->text);
    out->cap = 0;
    return 0;
}

/* on_done of async exports: runs on a library thread, inside the start call
 * (a future ready at its first poll), or in cancel. */
static void task_done(void *context) {
    atomic_fetch_add((atomic_int *)context, 1);
}

static void wait_done(atomic_int *done, int count) {
    while (atomic_load(done) < count) {
    }
}

int main(void) {
    printf("abi %u\n", (unsigned)ffi_export_abi_version());

    /* A trait implemented in C, called by Rust (on another thread too), and
     * a Rust implementation called from C through its object functions. */
    CButton c_button = {0, 0, ""};
    Button c_impl = {c_button_call, c_button_retain, c_button_release, &c_button};
    FfiBuffer pressed = press_on_thread(c_impl, 3);
    FfiBuffer c_label = label_of(c_impl);
    printf("c button: %.*s, %.*s, refs %d\n", TEXT(pressed), TEXT(c_label), c_button.refs);
    press_on_thread_free(&pressed);
    label_of_free(&c_label);
    FfiBuffer rust_label = {(void *)"rust", 4, 0};
    /* A Rust implementation comes back as an FfiForeign with NULL functions
     * and its Dyn<Trait> handle as the context (since ABI version 3). */
    Button rust_made = make_button(&rust_label);
    DynButton_handle rust_button = (DynButton_handle)(uintptr_t)rust_made.context;
    FfiBuffer rust_pressed = DynButton_press(rust_button, 2);
    FfiBuffer rust_again = press_on_thread(rust_made, 1);
    printf("rust button: %s%.*s, %.*s\n", rust_made.call == NULL ? "" : "(functions?) ", TEXT(rust_pressed),
           TEXT(rust_again));
    DynButton_press_free(&rust_pressed);
    press_on_thread_free(&rust_again);
    DynButton_free(rust_button);

    /* Our own object handed back by Rust: the same context, retained once
     * for us; a Rust closure: Rust's own functions, called and released. */
    Button c_back = button_echo(c_impl);
    printf("c button back: %s, refs %d\n", c_back.context == &c_button ? "same" : "other", c_button.refs);
    c_back.release(c_back.context);
    FfiForeign add2 = adder(2);
    int64_t five = 3, seven = 0;
    void *add_args[1] = {&five};
    FfiBuffer add_message = {NULL, 0, 0};
    int32_t add_status = add2.call(add2.context, 0, add_args, &seven, NULL, &add_message);
    printf("rust closure: status %d, 3 + 2 = %lld\n", (int)add_status, (long long)seven);
    /* A held call: its results stay until released, whatever other calls
     * this thread makes meanwhile; a second release has nothing left. */
    int64_t held_result = 0, other = 0;
    int32_t held_status = add2.call(add2.context, 0 | FFI_EXPORT_CALL_HELD, add_args, &held_result, NULL, &add_message);
    add2.call(add2.context, 0, add_args, &other, NULL, &add_message);
    int32_t released = add2.call(add2.context, FFI_EXPORT_CALL_RELEASE, NULL, NULL, NULL, &add_message);
    int32_t released_again = add2.call(add2.context, FFI_EXPORT_CALL_RELEASE, NULL, NULL, NULL, &add_message);
    printf("held call: status %d, result %lld, release %d, again %d (%.*s)\n", (int)held_status,
           (long long)held_result, (int)released, (int)released_again, (int)add_message.len, (const char *)add_message.ptr);
    add2.release(add2.context);

    /* String in (ptr, len), String out (FfiBuffer, NUL-terminated). */
    FfiBuffer reversed = reverse(STR("h\xc3\xa9llo"));
    printf("reverse: %s (%zu bytes)\n", (const char *)reversed.ptr, reversed.len);
    reverse_free(&reversed);
    reverse_free(&reversed); /* reset to NULL by the first free: a no-op */
    printf("freed: %s\n", reversed.ptr == NULL ? "yes" : "no");

    /* A record returned by value and deep-freed. */
    Person_repr person = make_person(STR("Ada"), 36);
    printf("person: %.*s age %u email %s%.*s tags %zu kind %d\n", (int)person.name.len,
           (const char *)person.name.ptr, (unsigned)person.age, person.email.is_some ? "" : "none",
           (int)person.email.value.len, (const char *)person.email.value.ptr, person.tags.len,
           (int)person.kind);
    /* ...and passed back in by pointer (borrowed). */
    FfiBuffer described = describe_person(&person);
    printf("describe: %s\n", (const char *)described.ptr);
    describe_person_free(&described);
    make_person_free(&person);

    /* A record built in C: String fields are {ptr, len} views. */
    Address_repr address = {{(void *)"Oslo", 4, 0}, {1, 150}};
    Person_repr built = {{(void *)"Bo", 2, 0}, 20, {0, {NULL, 0, 0}}, {NULL, 0, 0}, {NULL, 0, 0},
                         address, Kind_Guest, 1};
    FfiBuffer built_text = describe_person(&built);
    printf("built: %s\n", (const char *)built_text.ptr);
    describe_person_free(&built_text);

    /* Vec<i32>: a buffer of elements. */
    FfiBuffer numbers = vec_i32(4);
    const int32_t *items = numbers.ptr;
    printf("vec_i32:");
    for (size_t i = 0; i < numbers.len; i++) printf(" %d", (int)items[i]);
    printf("\n");
    vec_i32_free(&numbers);

    /* Options: a pointer in (NULL for None), FfiOption out. */
    uint32_t times = 2;
    FfiBuffer greeting = greet_opt(NULL, &times);
    printf("greet_opt: %s\n", (const char *)greeting.ptr);
    greet_opt_free(&greeting);
    FfiOption_int32_t some = opt_i32(-5, 1), none = opt_i32(-5, 0);
    printf("opt_i32: %d %d / %d\n", (int)some.is_some, (int)some.value, (int)none.is_some);

    /* Slices and a callback. */
    double values[3] = {1, 2, 3};
    int calls = 0;
    FfiCallback callback = {(const void *)triple, &calls};
    apply(values, 3, callback);
    printf("apply: %g %g %g (%d calls)\n", values[0], values[1], values[2], calls);

    /* A callback borrowed for one call, of any crossing types. */
    FfiForeign parse = {c_parse_call, c_parse_retain, c_parse_release, &c_parse_refs};
    printf("sum_parsed: %d\n", (int)sum_parsed(STR("ab cde"), parse));
    sum_parsed(STR("a busy"), parse);
    report_error("sum_parsed(busy)");
    sum_parsed(STR("a fail"), parse);
    report_error("sum_parsed(fail)");
    printf("sum_parsed refs: %d\n", c_parse_refs);

    /* A batch: one value (step 0) against an array (step 1). */
    double xs[3] = {1, 2, 3}, factor = 10, out[3];
    size_t done = scale_by_batch(3, xs, 1, &factor, 0, out);
    printf("scale_by_batch: %zu -> %g %g %g\n", done, out[0], out[1], out[2]);

    /* Errors: zero returned, the thread's record says why. */
    uint64_t faults = FFI_EXPORT_FAULTS;
    int64_t parsed = parse_int(STR("x"));
    printf("parse_int: %lld, faults +%llu\n", (long long)parsed, (unsigned long long)(FFI_EXPORT_FAULTS - faults));
    report_error("parse_int");
    printf("parse_int ok: %lld\n", (long long)parse_int(STR("42")));
    report_error("after success");
    panic_now(STR("boom"));
    report_error("panic_now");
    reverse((const uint8_t *)"\xff", 1);
    report_error("invalid UTF-8");
    next_kind(3);
    report_error("bad enum");

    /* Typed errors: the value of an #[export] error type. */
    checked_div(1, 0);
    report_typed_error("checked_div");
    checked_div(INT64_MIN, -1);
    report_typed_error("overflow");
    in_range(5, 0, 3);
    report_typed_error("in_range");
    check_access(2);
    report_typed_error("check_access");
    validate_age(-3);
    report_typed_error("validate_age");
    parse_int(STR("x"));
    report_typed_error("not typed");

    /* Owned parameters: the caller's C forms, copied in (the caller keeps
       and frees its own memory). */
    int64_t owned_numbers[4] = {1, 2, 3, -10};
    FfiBuffer number_vec = {owned_numbers, 4, 4};
    printf("sum_owned: %lld\n", (long long)sum_owned(&number_vec));
    FfiBuffer words[3] = {{(void *)"a", 1, 1}, {(void *)"bc", 2, 2}, {(void *)"d", 1, 1}};
    FfiBuffer word_vec = {words, 3, 3};
    FfiBuffer joined = hyphenate(&word_vec);
    printf("hyphenate: %.*s\n", (int)joined.len, (const char *)joined.ptr);
    hyphenate_free(&joined);
    FfiTuple2_FfiBuffer_uint32_t pairs[2] = {{{(void *)"x", 1, 1}, 5}, {{(void *)"y", 1, 1}, 7}};
    FfiBuffer map = {pairs, 2, 2};
    printf("total_count: %u\n", (unsigned)total_count(&map));
    FfiTuple2_int32_t_int64_t pair = {-1, 1000000000000LL};
    printf("pair_sum: %lld\n", (long long)pair_sum(&pair));
    FfiI128 big = {UINT64_MAX, 0}, one = {1, 0};
    FfiI128 wide = wide_add(big, one);
    printf("wide_add: lo %llu hi %llu\n", (unsigned long long)wide.lo, (unsigned long long)wide.hi);
    FfiBuffer bytes = repeat_byte(65, 3);
    printf("repeat_byte: %.*s\n", (int)bytes.len, (const char *)bytes.ptr);
    repeat_byte_free(&bytes);
    sum_owned(NULL);
    report_error("sum_owned(NULL)");
    FfiBuffer dangling = {NULL, 2, 2};
    sum_owned(&dangling);
    report_error("NULL items");
    FfiBuffer bad_word[1] = {{(void *)"\xff", 1, 1}};
    FfiBuffer bad_words = {bad_word, 1, 1};
    hyphenate(&bad_words);
    report_error("hyphenate(invalid UTF-8)");

    /* An object: a checked handle, freed once. */
    Counter_handle counter = Counter_new(5, STR("c"));
    Counter_add(counter, 2);
    FfiBuffer label = Counter_label(counter);
    printf("counter: %llu %s\n", (unsigned long long)Counter_get(counter), (const char *)label.ptr);
    Counter_label_free(&label);
    Counter_free(counter);
    Counter_free(counter); /* freed handles are no-ops */
    Counter_get(counter);
    report_error("stale handle");

    /* Objects as parameters: handles, checked by the library. */
    Tally_handle a = Tally_new(5), b = Tally_new(7);
    printf("absorb: %lld\n", (long long)Tally_absorb(a, b));
    Tally_absorb(a, a);
    report_error("same object twice");
    Tally_absorb(a, counter);
    report_error("stale parameter");
    /* A shared object: the same Arc comes back under the same handle, one
     * reference to release per time it was returned. */
    Item_handle item = Item_new(STR("x"), 3);
    Item_handle again = Item_me(item);
    printf("shared: %s, value %lld\n", item == again ? "same handle" : "new handle", (long long)Item_value(again));
    Item_free(item);
    printf("after one free: %lld\n", (long long)Item_value(again));
    Item_free(again);
    Item_value(again);
    report_error("after both");
    Tally_free(a);
    Tally_free(b);
    /* Async exports: start, on_done from a library thread, finish (frees the task). */
    atomic_int ended = 0;
    uint64_t task = div_later(84, 2, task_done, &ended);
    wait_done(&ended, 1);
    printf("div_later: %lld, on_done %d\n", (long long)div_later_finish(task), atomic_load(&ended));
    div_later_finish(task);
    report_error("finished twice");
    task = div_later(1, 0, task_done, &ended);
    wait_done(&ended, 2);
    div_later_finish(task);
    report_typed_error("div_later(1, 0)");
    FfiBuffer ada = {(void *)"Ada", 3, 3};
    task = greet_later(&ada, task_done, &ended);
    wait_done(&ended, 3);
    FfiBuffer hello = greet_later_finish(task);
    printf("greet_later: %.*s\n", TEXT(hello));
    greet_later_free(&hello);
    task = never(task_done, &ended);
    never_finish(task);
    report_error("not finished");
    int first = ffi_export_task_cancel(task), second = ffi_export_task_cancel(task);
    printf("cancel: %d then %d, on_done %d\n", first, second, atomic_load(&ended));
    never(NULL, NULL);
    report_error("no on_done");
    /* Iterators: a handle read by <name>_iter_next in chunks of at most
     * max items (an empty chunk at the end), each chunk freed by
     * <name>_iter_next_free, the iterator dropped once by <name>_iter_free
     * (also before its end). */
    uint64_t iter = numbered_words(5);
    printf("numbered_words:");
    for (;;) {
        FfiBuffer chunk = numbered_words_iter_next(iter, 2);
        if (chunk.len == 0) {
            numbered_words_iter_next_free(&chunk);
            break;
        }
        const FfiBuffer *items = chunk.ptr;
        for (size_t i = 0; i < chunk.len; i++) {
            printf(" %.*s", TEXT(items[i]));
        }
        printf(" |");
        numbered_words_iter_next_free(&chunk);
    }
    printf(" end\n");
    numbered_words_iter_free(iter);
    iter = count_up(1000000);
    FfiBuffer first3 = count_up_iter_next(iter, 3);
    const uint64_t *counted = first3.ptr;
    printf("count_up: %llu %llu %llu, live %zu\n", (unsigned long long)counted[0], (unsigned long long)counted[1],
           (unsigned long long)counted[2], live_iterators());
    count_up_iter_next_free(&first3);
    count_up_iter_free(iter);
    count_up_iter_free(iter); /* a stale handle: a no-op */
    printf("after free: live %zu\n", live_iterators());
    count_up_iter_next(iter, 1);
    report_error("stale iterator");
    /* Result<impl Iterator, E>: an Err is the call's own (0, error code 1,
     * no iterator made); Ok is a handle read as above. */
    uint64_t refused = countdown(101);
    report_error("countdown(101)");
    printf("countdown(101): handle %llu, live %zu\n", (unsigned long long)refused, live_iterators());
    iter = countdown(3);
    FfiBuffer down = countdown_iter_next(iter, 8);
    const uint32_t *downs = down.ptr;
    printf("countdown(3): %zu items, %u %u %u\n", down.len, downs[0], downs[1], downs[2]);
    countdown_iter_next_free(&down);
    countdown_iter_free(iter);
    printf("countdown freed: live %zu\n", live_iterators());
    /* Protocol shims (#[export(Display, Eq, Hash)]): plain exports taking
     * every operand; a String result is freed with <shim>_free, a panic is
     * the error channel's RustPanic. */
    Cell_handle cell_a = Cell_new(1), cell_b = Cell_new(1);
    printf("Cell_eq: %d %d\n", Cell_eq(cell_a, cell_b), Cell_eq(cell_a, cell_a));
    Cell_set(cell_b, 2);
    printf("Cell_eq after set: %d\n", Cell_eq(cell_a, cell_b));
    Cell_free(cell_a);
    FfiError stale;
    Cell_eq(cell_a, cell_b);
    if (ffi_export_error_take(&stale)) { /* the handle's number depends on what ran before */
        printf("Cell_eq(freed): error code %d, %.*s\n", (int)stale.code, TEXT(stale.type_name));
        ffi_export_error_free(&stale);
    }
    Cell_free(cell_b);
    Grenade_handle calm = Grenade_new(0), armed = Grenade_new(1);
    FfiBuffer shown = Grenade_display(calm);
    printf("Grenade_display: %.*s, hash stable: %d\n", TEXT(shown), Grenade_hash(calm) == Grenade_hash(calm));
    Grenade_display_free(&shown);
    shown = Grenade_display(armed);
    printf("armed display: ptr %s\n", shown.ptr ? "set" : "NULL");
    report_error("Grenade_display(armed)");
    Grenade_free(calm);
    Grenade_free(armed);
    return 0;
}
