// decoflow._core: the engine seen from the main interpreter. Only the main
// interpreter ever imports this module (nanobind modules cannot load in
// own-GIL subinterpreters); glue runs through the engine's own C API host.
//
// Threads and the GIL:
//  - every call that can block (waits, executor close, submitting big graphs)
//    releases the GIL;
//  - nothing here takes the GIL on an engine or glue thread: completion and
//    progress reach Python through the courier (courier.hpp), and Python
//    objects that engine threads let go of are released there too.
#include <Python.h>
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "courier.hpp"
#include "decoflow/codec.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/glue.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/graph_run.hpp"
#include "decoflow/input.hpp"
#include "decoflow/python_host.hpp"
#include "decoflow/stage.hpp"
#include "py_array.hpp"
#include "py_graph.hpp"
#include "rntuple_plan.hpp"
#include "root_meta.hpp"
#include "root_plan.hpp"

namespace nb = nanobind;

namespace decoflow::python {

namespace {

// ---------------------------------------------------------------- errors

// decoflow::Error becomes an instance of the decoflow.Error hierarchy, built
// by decoflow._errors (the class is chosen by ErrorCode there, on purpose).
void translate_error(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    nb::object make = nb::module_::import_("decoflow._errors").attr("_from_native");
    nb::object chunk = e.chunk() == no_chunk ? nb::object(nb::none()) : nb::object(nb::int_(e.chunk()));
    nb::object exc = make(static_cast<int>(e.code()), e.what(), e.cause(), e.graph(), e.node(),
                          chunk);
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  }
}

Codec parse_codec(const std::string& name) {
  if (auto codec = codec_from_string(name)) return *codec;
  throw Error(ErrorCode::invalid_argument,
              "unknown codec '" + name + "' (known: raw, zstd, lz4_block, lz4_frame or lz4, "
              "root_blocks or root)");
}

// ---------------------------------------------------------------- graphs

// One column of a vectorised add_chunks(): a scalar broadcast to every chunk,
// or a 1-D integer array read through its buffer (any stride, int32/int64/
// uint32/uint64), so that building 100,000 chunks runs no Python per chunk.
class Column {
 public:
  Column(const char* name, nb::handle value) : name_(name) {
    if (value.is_none()) {
      absent_ = true;
      return;
    }
    if (PyLong_Check(value.ptr())) {
      const long long v = PyLong_AsLongLong(value.ptr());
      if (v == -1 && PyErr_Occurred()) throw nb::python_error();
      if (v < 0) throw nb::value_error((std::string(name) + " must not be negative").c_str());
      scalar_ = static_cast<std::uint64_t>(v);
      return;
    }
    if (!nb::try_cast(value, array_)) {
      throw nb::type_error((std::string(name) +
                            " must be an int or a 1-D integer array (lists are converted "
                            "by decoflow.Graph)").c_str());
    }
    if (array_.ndim() != 1) {
      throw nb::value_error((std::string(name) + " must be one-dimensional").c_str());
    }
    const nb::dlpack::dtype t = array_.dtype();
    const bool integer = t.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Int) ||
                         t.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::UInt);
    if (!integer || (t.bits != 32 && t.bits != 64) || t.lanes != 1) {
      throw nb::type_error((std::string(name) + " must hold int32, int64, uint32 or uint64").c_str());
    }
    signed_ = t.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Int);
    bits_ = t.bits;
    is_array_ = true;
    data_ = static_cast<const std::byte*>(array_.data());
    stride_ = array_.stride(0) * static_cast<std::int64_t>(bits_ / 8);
  }

  /// Throws, naming the first negative entry, before anything is added.
  void check() const {
    if (!is_array_ || !signed_) return;
    for (std::size_t i = 0; i < size(); ++i) (void)(*this)[i];
  }

  bool absent() const { return absent_; }
  bool is_array() const { return is_array_; }
  std::size_t size() const { return is_array_ ? array_.shape(0) : 0; }

  std::uint64_t operator[](std::size_t i) const {
    if (!is_array_) return scalar_;
    const std::byte* p = data_ + static_cast<std::int64_t>(i) * stride_;
    std::int64_t v = 0;
    if (bits_ == 64) {
      std::uint64_t u;
      std::memcpy(&u, p, 8);
      if (!signed_) return u;
      v = static_cast<std::int64_t>(u);
    } else if (signed_) {
      std::int32_t s;
      std::memcpy(&s, p, 4);
      v = s;
    } else {
      std::uint32_t u;
      std::memcpy(&u, p, 4);
      return u;
    }
    if (v < 0) {
      throw Error(ErrorCode::invalid_argument,
                  std::string(name_) + "[" + std::to_string(i) + "] is negative (" +
                      std::to_string(v) + ")");
    }
    return static_cast<std::uint64_t>(v);
  }

 private:
  const char* name_;
  bool absent_ = false;
  bool is_array_ = false;
  bool signed_ = false;
  unsigned bits_ = 64;
  std::uint64_t scalar_ = 0;
  nb::ndarray<nb::ro, nb::device::cpu> array_;
  const std::byte* data_ = nullptr;
  std::int64_t stride_ = 0;
};


std::uint32_t add_buffer_input(PyGraph& g, nb::handle data) {
  Py_buffer view{};
  if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) {
    nb::python_error exporter;
    throw nb::type_error((std::string("add_input: a ") + Py_TYPE(data.ptr())->tp_name +
                          " is not a contiguous bytes-like object (" +
                          nb::str(exporter.value()).c_str() + "); pass bytes, a memoryview, "
                          "a NumPy array, or a path with add_file()").c_str());
  }
  ConstBytes bytes(static_cast<const std::byte*>(view.buf), static_cast<std::size_t>(view.len));
  // The held Py_buffer keeps the object's memory in place (a bytearray cannot
  // be resized while exported) for as long as any graph or run uses it.
  auto input = InputBuffer::wrap(bytes, share_python_buffer(view));
  return g.edit().add_input(std::move(input));
}

void add_chunk(PyGraph& g, std::int64_t input, std::uint64_t offset, std::uint64_t size,
               PyArray& array, std::uint64_t dest_offset, nb::object dest_size,
               const std::string& codec, std::int64_t tag) {
  ChunkSpec c;
  c.input = g.input_id(input);
  c.input_offset = offset;
  c.input_size = size;
  c.array = g.array_id(array);
  c.dest_offset = dest_offset;
  c.dest_size = dest_size.is_none() ? array.array->size() - std::min(dest_offset, array.array->size())
                                    : nb::cast<std::uint64_t>(dest_size);
  c.codec = parse_codec(codec);
  c.tag = tag;
  g.edit().add_chunk(c);
}

std::size_t add_chunks(PyGraph& g, std::int64_t input, nb::handle offsets, nb::handle sizes,
                       PyArray& array, nb::handle dest_sizes, nb::handle dest_offsets,
                       std::uint64_t dest_start, const std::string& codec, nb::handle tags) {
  const Column off("input_offsets", offsets), size("input_sizes", sizes),
      dsize("dest_sizes", dest_sizes), doff("dest_offsets", dest_offsets), tag("tags", tags);
  if (off.absent() || size.absent() || dsize.absent()) {
    throw nb::type_error("input_offsets, input_sizes and dest_sizes are required");
  }
  std::size_t n = 0;
  bool have_n = false;
  for (const Column* c : {&off, &size, &dsize, &doff, &tag}) {
    if (!c->is_array()) continue;
    if (have_n && c->size() != n) {
      throw nb::value_error(("add_chunks: the arrays differ in length (" + std::to_string(n) +
                             " and " + std::to_string(c->size()) + ")").c_str());
    }
    n = c->size();
    have_n = true;
  }
  if (!have_n) throw nb::value_error("add_chunks: give at least one array (or use add_chunk)");
  for (const Column* col : {&off, &size, &dsize, &doff, &tag}) col->check();
  ChunkSpec c;
  c.input = g.input_id(input);
  c.array = g.array_id(array);
  c.codec = parse_codec(codec);
  Graph& graph = g.edit();
  const std::size_t first = graph.chunks().size();
  graph.reserve_chunks(first + n);
  {
    // Plain reads of buffers the caller may not change meanwhile: the GIL is
    // kept (arrays could otherwise be resized under us); 100,000 chunks take
    // about a millisecond.
    std::uint64_t running = dest_start;
    for (std::size_t i = 0; i < n; ++i) {
      c.input_offset = off[i];
      c.input_size = size[i];
      c.dest_size = dsize[i];
      if (doff.absent()) {
        c.dest_offset = running;
        running += c.dest_size;
      } else {
        c.dest_offset = doff[i];
      }
      c.tag = tag.absent() ? static_cast<std::int64_t>(i) : static_cast<std::int64_t>(tag[i]);
      graph.add_chunk(c);
    }
  }
  return first;
}

// ---------------------------------------------------------------- runs

struct PyRun {
  // Only the run: holding the graph here would keep its arrays (and adopted
  // Python objects) alive for as long as the future exists.
  GraphRun run;

  // Waits up to `timeout` seconds (None: forever) in short slices with the GIL
  // released, checking for signals between slices so that Ctrl-C lands
  // promptly (KeyboardInterrupt propagates; the caller cancels).
  bool wait(nb::object timeout) {
    using namespace std::chrono;
    const bool forever = timeout.is_none();
    const auto deadline =
        forever ? steady_clock::time_point::max()
                : steady_clock::now() + duration_cast<steady_clock::duration>(
                                            duration<double>(nb::cast<double>(timeout)));
    for (;;) {
      auto slice = milliseconds(50);
      if (!forever) {
        const auto left = deadline - steady_clock::now();
        if (left <= steady_clock::duration::zero()) return run.done();
        slice = std::min(slice, duration_cast<milliseconds>(left) + milliseconds(1));
      }
      bool finished = false;
      {
        nb::gil_scoped_release release;  // main-interpreter thread: PyEval_SaveThread
        finished = run.wait_for(slice);
      }
      if (finished) return true;
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
    }
  }
};

// ---------------------------------------------------------------- executors

struct PyExecutor {
  std::unique_ptr<Executor> executor;
  unsigned threads = 0;

  explicit PyExecutor(unsigned n) {
    if (forked_after_start()) throw_forked();
    note_threads_started();
    executor = std::make_unique<Executor>(n);
    threads = executor->threads();
  }
  ~PyExecutor() { close(); }

  [[noreturn]] static void throw_forked() {
    throw Error(ErrorCode::resource_error,
                "decoflow cannot run in a process forked from one that had started its "
                "threads (TBB workers, glue interpreters): use multiprocessing's 'spawn' or "
                "'forkserver' start method");
  }

  // Waits for every running graph, then frees the arena. The GIL is released
  // while waiting: glue threads may need it to create their interpreters, and
  // other Python threads must go on.
  void close() {
    if (!executor) return;
    std::unique_ptr<Executor> doomed = std::move(executor);
    if (attached_to_main()) {
      nb::gil_scoped_release release;
      doomed.reset();
    } else {
      doomed.reset();
    }
  }

  PyRun* submit(PyGraph& g) {
    if (!executor) throw Error(ErrorCode::invalid_argument, "the executor is closed");
    if (forked_after_start()) throw_forked();
    std::shared_ptr<const Graph> graph = g.graph;
    GraphRun run;
    if (graph->chunks().size() >= 4096) {
      // Validation walks every chunk: let other Python threads run meanwhile.
      nb::gil_scoped_release release;
      run = executor->submit(graph);
    } else {
      run = executor->submit(graph);
    }
    return new PyRun{std::move(run)};
  }
};

}  // namespace

}  // namespace decoflow::python

NB_MODULE(_core, m) {
  using namespace decoflow;
  using namespace decoflow::python;
  m.doc() = "decoflow's native core (use the decoflow package instead).";
  Courier::instance();  // installs the fork guard
  nb::register_exception_translator(translate_error);

  m.def("_error_codes", [] {
    nb::dict codes;
    for (int c = 1; c <= 12; ++c) {
      codes[nb::str(std::string(to_string(static_cast<ErrorCode>(c))).c_str())] = c;
    }
    return codes;
  }, "{name: value} of decoflow::ErrorCode.");
  m.def("_raise_native", [](int code, std::string cause, std::string graph, std::string node,
                            std::int64_t chunk) {
    throw Error(static_cast<ErrorCode>(code), std::move(cause), std::move(graph),
                std::move(node), chunk);
  }, "Raises a native decoflow::Error (tests the error mapping).");

  bind_arrays(m);
  bind_root(m);  // decoflow.root: ROOT branches
  bind_rntuple(m);  // decoflow.root: RNTuple fields
  bind_root_meta(m);  // decoflow.root: ROOT metadata, natively

  // Stages --------------------------------------------------------------
  nb::class_<Stage>(m, "Stage", "One step every chunk goes through (make with decoflow.decode(),\n"
                                "decoflow.byteswap(), decoflow.glue()).")
      .def_prop_ro("name", [](const Stage& s) { return s.name(); },
                   "The stage's name (errors name it as their node).")
      .def_prop_ro("kind", [](const Stage& s) {
        switch (s.kind()) {
          case Stage::Kind::decode: return "decode";
          case Stage::Kind::byteswap: return "byteswap";
          case Stage::Kind::custom: return "custom";
          case Stage::Kind::ordered: return "ordered";
        }
        return "?";
      }, "'decode', 'byteswap', 'custom' (glue) or 'ordered'.")
      .def("__repr__", [](const Stage& s) { return "<decoflow.Stage '" + s.name() + "'>"; });
  m.def("_decode_stage", [](std::string name) { return Stage::decode(std::move(name)); },
        nb::arg("name"));
  m.def("_byteswap_stage", [](unsigned width, std::string name) {
    return Stage::byteswap(width, std::move(name));
  }, nb::arg("width"), nb::arg("name"));
  m.def("_glue_stage", [](std::string name, std::string target, std::string source,
                          std::string function, std::vector<std::string> sys_path, double timeout) {
    GlueSpec spec{std::move(target), std::move(source), std::move(function), std::move(sys_path),
                  std::chrono::duration<double>(timeout)};
    return glue_stage(std::move(name), std::move(spec));
  }, nb::arg("name"), nb::arg("target"), nb::arg("source"), nb::arg("function"),
     nb::arg("sys_path"), nb::arg("timeout"));
  m.def("_codec_names", [] {
    std::vector<std::string> names;
    for (Codec c : {Codec::raw, Codec::zstd, Codec::lz4_block, Codec::lz4_frame, Codec::root_blocks}) {
      names.emplace_back(to_string(c));
    }
    return names;
  });

  // Graphs --------------------------------------------------------------
  nb::class_<PyGraph>(m, "_Graph")
      .def(nb::init<std::string>(), nb::arg("name") = "graph")
      .def_prop_ro("name", [](const PyGraph& g) { return g.graph->name(); })
      .def_prop_ro("chunk_count", [](const PyGraph& g) { return g.graph->chunks().size(); })
      .def_prop_ro("input_count", [](const PyGraph& g) { return g.graph->inputs().size(); })
      .def_prop_ro("stages", [](const PyGraph& g) { return g.graph->stages(); })
      .def("_add_input", &add_buffer_input, nb::arg("data"))
      .def("_add_file", [](PyGraph& g, const std::string& path) {
        return g.edit().add_input(InputBuffer::map_file(path));
      }, nb::arg("path"))
      .def("_input_size", [](const PyGraph& g, std::int64_t input) {
        return g.graph->inputs()[g.input_id(input)]->size();
      }, nb::arg("input"))
      .def("add_stage", [](PyGraph& g, const Stage& s) { g.edit().add_stage(s); }, nb::arg("stage"),
           "Appends a stage; chunks go through stages in the order they were added.")
      .def("_add_chunk", &add_chunk, nb::arg("input"), nb::arg("input_offset"),
           nb::arg("input_size"), nb::arg("array"), nb::arg("dest_offset"), nb::arg("dest_size").none(),
           nb::arg("codec"), nb::arg("tag"))
      .def("_add_chunks", &add_chunks, nb::arg("input"), nb::arg("input_offsets"),
           nb::arg("input_sizes"), nb::arg("array"), nb::arg("dest_sizes"),
           nb::arg("dest_offsets").none(), nb::arg("dest_start"), nb::arg("codec"),
           nb::arg("tags").none())
      .def("_chunk", [](const PyGraph& g, std::size_t i) {
        if (i >= g.graph->chunks().size()) throw nb::index_error("chunk index out of range");
        const ChunkSpec& c = g.graph->chunks()[i];
        return nb::make_tuple(c.input, c.input_offset, c.input_size, c.array, c.dest_offset,
                              c.dest_size, std::string(to_string(c.codec)), c.tag);
      }, nb::arg("index"));

  // Runs ----------------------------------------------------------------
  nb::class_<PyRun>(m, "_Run")
      .def("done", [](const PyRun& r) { return r.run.done(); })
      .def("wait", &PyRun::wait, nb::arg("timeout").none() = nb::none())
      .def("cancel", [](PyRun& r) { r.run.cancel(); })
      .def("progress", [](const PyRun& r) {
        const Progress p = r.run.progress();
        return nb::make_tuple(p.chunks_done, p.chunks_total, p.bytes_done, p.bytes_total);
      })
      .def("raise_error", [](const PyRun& r) {
        if (!r.run.done()) throw nb::value_error("the run is not done");
        if (auto e = r.run.error()) std::rethrow_exception(e);
      })
      .def("results", [](const PyRun& r) {
        auto* values = new std::vector<std::int64_t>(r.run.results());
        nb::capsule owner(values, [](void* p) noexcept {
          delete static_cast<std::vector<std::int64_t>*>(p);
        });
        return nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>(values->data(), {values->size()},
                                                                  owner);
      })
      .def("chunk_states", [](const PyRun& r) {
        auto* values = new std::vector<ChunkState>(r.run.chunk_states());
        nb::capsule owner(values, [](void* p) noexcept {
          delete static_cast<std::vector<ChunkState>*>(p);
        });
        return nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<1>>(
            reinterpret_cast<std::uint8_t*>(values->data()), {values->size()}, owner);
      })
      .def("on_done", [](PyRun& r, nb::object fn) {
        // The engine calls this on its own thread; the Python call happens on
        // the courier. The callable travels as a shared reference that any
        // thread may drop (courier.hpp).
        auto callable = share_python_object(fn.ptr());
        r.run.on_done([callable] {
          Courier::instance().post([callable] {
            try {
              nb::handle(callable.get())();
            } catch (nb::python_error& e) {
              e.discard_as_unraisable("decoflow done callback");
            }
          });
        });
      }, nb::arg("fn"))
      .def("watch", [](PyRun& r, nb::object fn, double interval) {
        // Calls fn(chunks_done, chunks_total, bytes_done, bytes_total) every
        // `interval` seconds on the courier, and once more when the run is done.
        auto callable = share_python_object(fn.ptr());
        GraphRun run = r.run;
        auto ms = std::chrono::milliseconds(static_cast<long long>(interval * 1000.0));
        Courier::instance().watch([callable, run] {
          const bool finished = run.done();
          const Progress p = run.progress();
          try {
            nb::handle(callable.get())(p.chunks_done, p.chunks_total, p.bytes_done, p.bytes_total,
                                       finished);
          } catch (nb::python_error& e) {
            e.discard_as_unraisable("decoflow progress callback");
          }
          return !finished;
        }, std::max(ms, std::chrono::milliseconds(1)));
      }, nb::arg("fn"), nb::arg("interval"));

  // Executors -----------------------------------------------------------
  nb::class_<PyExecutor>(m, "_Executor")
      .def(nb::init<unsigned>(), nb::arg("threads"))
      .def_prop_ro("threads", [](const PyExecutor& e) { return e.threads; })
      .def_prop_ro("closed", [](const PyExecutor& e) { return !e.executor; })
      .def("submit", &PyExecutor::submit, nb::arg("graph"), nb::rv_policy::take_ownership)
      .def("close", &PyExecutor::close);

  // Process lifetime ----------------------------------------------------
  m.def("_end_glue_interpreters", [] {
    nb::gil_scoped_release release;  // their threads take GILs to end them
    end_glue_interpreters();
  }, "Ends every glue subinterpreter on its own thread (atexit; no glue may be running).");
  m.def("_glue_interpreter_count", &glue_interpreter_count);
  m.def("_start_glue_interpreters", [](unsigned count) {
    nb::gil_scoped_release release;  // the new interpreters need the main GIL to be created
    return start_glue_interpreters(count);
  }, nb::arg("count"), "Creates up to `count` glue subinterpreters now; returns how many live.");
  m.def("_stop_courier", [] { Courier::instance().stop(); },
        "Runs queued callbacks and ends the courier thread (atexit).");
  m.def("_forked_after_start", &forked_after_start);
}
