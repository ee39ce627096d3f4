/* A buffer exporter for the soundness tests, built as a CPython extension
 * by tests/python/test_soundness.py (gcc against the running interpreter's
 * headers). It behaves like exporters the helper must survive:
 *
 * - its views point `shape` and `strides` into the Py_buffer itself, and it
 *   checks at release that the view is still where it filled it (`moved`
 *   counts views released from another address);
 * - a "dishonest" exporter grants PyBUF_WRITABLE for read-only memory (it
 *   reports `readonly = 1` but does not fail), which must never become a
 *   `&mut [T]`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    unsigned char data[64];
    Py_ssize_t len;
    int readonly;
    int dishonest;
    long moved;
    long exports;
} Exporter;

static int exporter_init(Exporter *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"length", "readonly", "dishonest", NULL};
    Py_ssize_t len = 8;
    int readonly = 0, dishonest = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|npp", names, &len, &readonly, &dishonest)) {
        return -1;
    }
    if (len < 0 || len > (Py_ssize_t)sizeof self->data) {
        PyErr_SetString(PyExc_ValueError, "length must be in 0..=64");
        return -1;
    }
    memset(self->data, 0, sizeof self->data);
    self->len = len;
    self->readonly = readonly;
    self->dishonest = dishonest;
    self->moved = 0;
    self->exports = 0;
    return 0;
}

static int exporter_getbuffer(Exporter *self, Py_buffer *view, int flags) {
    if ((flags & PyBUF_WRITABLE) && self->readonly && !self->dishonest) {
        PyErr_SetString(PyExc_BufferError, "this exporter is read-only");
        return -1;
    }
    view->obj = (PyObject *)self;
    Py_INCREF(self);
    view->buf = self->data;
    view->len = self->len;
    view->itemsize = 1;
    view->readonly = self->readonly;
    view->format = (flags & PyBUF_FORMAT) ? "B" : NULL;
    view->ndim = 1;
    /* Into the view itself: valid only while the view stays in place. */
    view->shape = (flags & PyBUF_ND) ? &view->len : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &view->itemsize : NULL;
    view->suboffsets = NULL;
    view->internal = view;
    self->exports++;
    return 0;
}

static void exporter_releasebuffer(Exporter *self, Py_buffer *view) {
    if (view->internal != (void *)view) {
        self->moved++;
    }
    self->exports--;
}

static PyBufferProcs exporter_as_buffer = {
    (getbufferproc)exporter_getbuffer,
    (releasebufferproc)exporter_releasebuffer,
};

static PyObject *exporter_contents(Exporter *self, PyObject *unused) {
    (void)unused;
    return PyBytes_FromStringAndSize((const char *)self->data, self->len);
}

static PyObject *exporter_get_moved(Exporter *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->moved);
}

static PyObject *exporter_get_exports(Exporter *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->exports);
}

static PyMethodDef exporter_methods[] = {
    {"contents", (PyCFunction)exporter_contents, METH_NOARGS, "The bytes, copied."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef exporter_getset[] = {
    {"moved", (getter)exporter_get_moved, NULL, "Views released away from where they were filled.", NULL},
    {"exports", (getter)exporter_get_exports, NULL, "Views not released yet.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ExporterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ffi_export_test_exporter.Exporter",
    .tp_basicsize = sizeof(Exporter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)exporter_init,
    .tp_as_buffer = &exporter_as_buffer,
    .tp_methods = exporter_methods,
    .tp_getset = exporter_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ffi_export_test_exporter", NULL, -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_ffi_export_test_exporter(void) {
    if (PyType_Ready(&ExporterType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&ExporterType);
    if (PyModule_AddObject(m, "Exporter", (PyObject *)&ExporterType) < 0) {
        Py_DECREF(&ExporterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
