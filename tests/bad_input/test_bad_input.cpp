// Bad input across every public entry-point family: each case must end in a clear exception of the right type whose
// message names the user's call and the shapes (or values) at fault, or in an honest solver status. Each case runs
// in a forked child with an alarm, so a crash or a hang fails that case alone and the others still run.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

struct Outcome {
  std::string kind;     // "ShapeError", "ValueError", "MisuseError", "Error", "other", "none", "crash", "hang"
  std::string message;  // what() or the status the case reported
};

// Runs `body` in a child process; the child reports the exception it caught (or the string `body` returned).
Outcome isolated(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    alarm(60);  // a hang ends the child with SIGALRM
    std::string out;
    try {
      out = "none\n" + body();
    } catch (const ShapeError& e) {
      out = std::string("ShapeError\n") + e.what();
    } catch (const ValueError& e) {
      out = std::string("ValueError\n") + e.what();
    } catch (const MisuseError& e) {
      out = std::string("MisuseError\n") + e.what();
    } catch (const Error& e) {
      out = std::string("Error\n") + e.what();
    } catch (const std::exception& e) {
      out = std::string("other\n") + e.what();
    }
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t k = write(fds[1], out.data() + done, out.size() - done);
      if (k <= 0) break;
      done += static_cast<std::size_t>(k);
    }
    _exit(0);  // no atexit handlers, no leak check of the parent's heap in the child
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t k; (k = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(k));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return {WTERMSIG(status) == SIGALRM ? "hang" : "crash", "signal " + std::to_string(WTERMSIG(status))};
  const auto nl = got.find('\n');
  if (nl == std::string::npos) return {"crash", "no report (exit status " + std::to_string(status) + ")"};
  return {got.substr(0, nl), got.substr(nl + 1)};
}

struct Case {
  const char* name;
  std::function<std::string()> body;  // returns a description of what happened when nothing was thrown
  const char* kind;                   // the expected outcome kind
  std::vector<std::string> mentions;  // substrings the message must contain (the call, the shapes)
};

void run(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    const Outcome o = isolated(c.body);
    const std::string what = std::string(c.name) + "\n  got " + o.kind + ": " + o.message;
    INFO("case: " << what);
    CHECK(o.kind == c.kind);
    for (const auto& m : c.mentions) {
      INFO("  the message should mention '" << m << "'");
      CHECK(o.message.find(m) != std::string::npos);
    }
  }
}

Tensor vec(std::size_t n, double v = 1.0) { return Tensor(Array(xt::ones<double>({n}) * v)); }
Tensor mat(std::size_t r, std::size_t c, double v = 1.0) { return Tensor(Array(xt::ones<double>({r, c}) * v)); }
template <class F>
std::string nothing(F&& f) {
  f();
  return "no exception";
}

constexpr std::ptrdiff_t big = (std::ptrdiff_t{1} << 62) + 1;
constexpr std::size_t two32 = std::size_t{1} << 32;

}  // namespace

TEST_CASE("ops: shapes, axes, overflowing extents, domains") {
  run({
      {"add of shapes that do not broadcast", [] { return nothing([] { vec(2) + mat(2, 3); }); }, "ShapeError",
       {"add", "(2)", "(2,3)"}},
      {"matmul of inner extents that differ", [] { return nothing([] { matmul(mat(2, 3), mat(4, 5)); }); },
       "ShapeError", {"matmul", "(2,3)", "(4,5)"}},
      {"reshape to a shape whose element count overflows", [] { return nothing([] { reshape(vec(4), {big, 4}); }); },
       "ShapeError", {"reshape", "4611686018427387905"}},
      {"reshape with -1 and an overflowing rest", [] { return nothing([] { reshape(vec(4), {-1, big, 4}); }); },
       "ShapeError", {"reshape"}},
      {"reshape to a different element count", [] { return nothing([] { reshape(vec(4), {3}); }); }, "ShapeError",
       {"reshape", "(4)", "(3)"}},
      {"broadcast_to of a scalar to (2^32, 2^32)",
       [] { return nothing([] { slice(broadcast_to(Tensor(1.0), {two32, two32}), 0, 1000, 1001); }); }, "ShapeError",
       {"broadcast_to", "(4294967296,4294967296)"}},
      {"broadcast_to an incompatible shape", [] { return nothing([] { broadcast_to(vec(3), {2}); }); }, "ShapeError",
       {"broadcast_to", "(3)", "(2)"}},
      {"sum over an axis out of range", [] { return nothing([] { sum(mat(2, 3), {2}); }); }, "ShapeError",
       {"sum", "axis 2"}},
      {"take of an index out of range", [] { return nothing([] { take(vec(3), {123456}); }); }, "ValueError",
       {"take", "123456"}},
      {"slice with step 0", [] { return nothing([] { slice(vec(3), 0, 0, 3, 0); }); }, "ValueError", {"slice"}},
      {"concatenate of mismatched shapes", [] { return nothing([] { concatenate({mat(2, 3), mat(2, 4)}, 0); }); },
       "ShapeError", {"concatenate", "(2,3)", "(2,4)"}},
      {"max of an empty array", [] { return nothing([] { max(Tensor(Array::from_shape({0}))); }); }, "ValueError",
       {"max", "(0)"}},
      {"softmax along an axis out of range", [] { return nothing([] { softmax(mat(2, 3), 2); }); }, "ShapeError",
       {"softmax", "axis 2"}},
      {"solve with a non-square matrix", [] { return nothing([] { solve(mat(2, 3), vec(2)); }); }, "ShapeError",
       {"solve", "(2,3)"}},
      {"cholesky of a matrix that is not positive definite",
       [] { return nothing([] { cholesky(Tensor(Array{{1.0, 2.0}, {2.0, 1.0}})); }); }, "ValueError",
       {"cholesky"}},
      {"tile to an overflowing shape", [] { return nothing([] { tile(vec(2), {two32, two32}); }); }, "ShapeError",
       {"tile"}},
      {"repeat to an overflowing extent", [] { return nothing([] { repeat(mat(2, 3), std::size_t(1) << 63, 1); }); },
       "ShapeError", {"repeat", "(2,3)"}},
      {"pad by an overflowing width", [] { return nothing([] { pad(vec(2), {{std::size_t(1) << 63, std::size_t(1) << 63}}); }); },
       "ShapeError", {"pad", "(2)"}},
      {"diag of a vector too long to square", [] { return nothing([] { diag(vec(1), std::ptrdiff_t(1) << 40); }); },
       "ShapeError", {"diag"}},
      {"take_along_axis of an index out of range",
       [] { return nothing([] { take_along_axis(mat(2, 3), Array{{0.0, 7.0}, {1.0, 1.0}}, 1); }); }, "ValueError",
       {"take_along_axis", "7"}},
      {"scatter_add of updates of the wrong shape", [] { return nothing([] { scatter_add(mat(2, 3), {0}, vec(2)); }); },
       "ShapeError", {"scatter_add", "(2)", "(1,3)"}},
      {"einsum with an ellipsis", [] { return nothing([] { einsum("...i,i", mat(2, 3), vec(3)); }); }, "ValueError",
       {"einsum", "ellipsis"}},
      {"einsum of mismatched extents", [] { return nothing([] { einsum("ij,jk->ik", mat(2, 3), mat(2, 3)); }); },
       "ShapeError", {"einsum", "'j'"}},
      {"eigh of a matrix with NaN", [] { return nothing([] { eigh(Tensor(Array{{NAN, 0.0}, {0.0, 1.0}})); }); },
       "ValueError", {"eigh", "NaN"}},
      {"det of a non-square matrix", [] { return nothing([] { det(mat(2, 3)); }); }, "ShapeError", {"det", "(2,3)"}},
      {"inv of an empty stack of matrices", [] { return nothing([] { inv(Tensor(Array::from_shape({0, 2, 2}))); }); },
       "ShapeError", {"inv", "empty", "(0,2,2)"}},
      {"solve with batch axes that do not broadcast",
       [] { return nothing([] { solve(Tensor(Array(xt::ones<double>({2, 3, 3}))), Tensor(Array(xt::ones<double>({4, 3, 1})))); }); },
       "ShapeError", {"solve", "(2)", "(4)"}},
      {"solve_triangular with a zero on the diagonal",
       [] { return nothing([] { solve_triangular(Tensor(Array{{0.0, 1.0}, {0.0, 1.0}}), vec(2)); }); }, "ValueError",
       {"solve_triangular", "diagonal"}},
      {"top_k of more than the axis holds", [] { return nothing([] { top_k(vec(3), 4); }); }, "ValueError",
       {"top_k", "k = 4"}},
      {"polygamma of a negative order", [] { return nothing([] { polygamma(-2, vec(3)); }); }, "ValueError",
       {"polygamma", "-2"}},
      {"item of a non-scalar", [] { return nothing([] { (void)vec(2).item(); }); }, "MisuseError", {"item", "(2)"}},
      {"random::normal with an overflowing shape",
       [] { return nothing([] { random::normal(random::key(0), {two32, two32}); }); }, "ShapeError",
       {"random.normal", "(4294967296,4294967296)"}},
      {"clip with lo > hi", [] { return nothing([] { clip(vec(2), 1.0, 0.0); }); }, "ValueError", {"clip"}},
  });
}

TEST_CASE("transforms: tangents and cotangents have exactly their primal's shape") {
  auto f = [](const Tensor& x) { return sum(x * x); };
  auto g = [](const Tensor& x) { return x * 2.0; };
  run({
      {"grad of a non-scalar function", [&] { return nothing([&] { grad(g)(vec(2)); }); }, "MisuseError",
       {"value_and_grad", "(2)"}},
      {"hvp with v of shape (1) for x of shape (3)", [&] { return nothing([&] { hvp(f, vec(3), vec(1)); }); },
       "ShapeError", {"hvp", "(1)", "(3)"}},
      {"jvp with a tangent of the wrong shape", [&] { return nothing([&] { jvp(g, vec(2), vec(3)); }); },
       "ShapeError", {"jvp", "(3)", "(2)"}},
      {"vjp pullback with a cotangent of the wrong shape",
       [&] {
         return nothing([&] {
           auto [y, pb] = vjp(g, vec(2));
           pb(vec(3));
         });
       },
       "ShapeError", {"vjp", "(3)", "(2)"}},
      {"a tensor that escaped its transform, used in another",
       [&] {
         return nothing([&] {
           Tensor leaked;
           grad([&](const Tensor& x) {
             leaked = x * 3.0;
             return sum(x);
           })(Tensor(1.0));
           grad([&](const Tensor& x) { return sum(x * leaked); })(Tensor(2.0));
         });
       },
       "MisuseError", {"escaped"}},
      {"jacobian of a function of a wrongly shaped argument",
       [&] { return nothing([&] { jacobian([](const Tensor& x) { return matmul(mat(2, 3), x); })(vec(2)); }); },
       "ShapeError", {"matmul", "(2,3)", "(2)"}},
  });
}

TEST_CASE("custom rules: a cotangent of the wrong shape names custom_vjp") {
  auto bad = custom_vjp([](const Tensor& x) { return std::pair{x * 2.0, x}; },
                        [](const Tensor&, const Tensor& g) { return std::tuple{sum(g) * vec(2)}; });
  run({
      {"custom_vjp bwd returns shape (2) for an argument of shape (3)",
       [&] { return nothing([&] { grad([&](const Tensor& x) { return sum(bad(x)); })(vec(3)); }); }, "ShapeError",
       {"custom_vjp", "(2)", "(3)"}},
  });
}

TEST_CASE("optimizers: gradients and updates have exactly the parameters' shapes") {
  run({
      {"adam.update with gradients of shape (1) for parameters of shape (3)",
       [] {
         return nothing([] {
           auto opt = optim::adam(0.1);
           auto st = opt.init(vec(3));
           opt.update(vec(1), st, vec(3));
         });
       },
       "ShapeError", {"adam", "(1)", "(3)"}},
      {"sgd.update with a gradient tree of another structure",
       [] {
         return nothing([] {
           auto opt = optim::sgd(0.1);
           std::vector<Tensor> p{vec(2), vec(2)};
           auto st = opt.init(p);
           opt.update(std::vector<Tensor>{vec(2)}, st, p);
         });
       },
       "ShapeError", {"sgd", "different lengths"}},
      {"apply_updates with updates of shape (3) for parameters of shape (1)",
       [] { return nothing([] { optim::apply_updates(vec(1), vec(3)); }); }, "ShapeError",
       {"apply_updates", "(3)", "(1)"}},
  });
}

TEST_CASE("solvers: honest statuses, never a crash") {
  auto nan_at_start = [](const Tensor& x) { return sum(log(x - 10.0)); };  // NaN for x < 10
  auto unbounded = [](const Tensor& x) { return sum(x); };
  run({
      {"LBFGS on a function that is NaN at the start",
       [&] { return optim::to_string(optim::LBFGS{}.run(nan_at_start, vec(2)).state.status); }, "none",
       {"non_finite"}},
      {"LBFGS on an unbounded function",
       [&] { return optim::to_string(optim::LBFGS{}.run(unbounded, vec(2)).state.status); }, "none",
       {"unbounded"}},
      {"GradientDescent on a non-scalar objective",
       [] {
         return nothing([] { optim::GradientDescent{}.run([](const Tensor& x) { return x * 2.0; }, vec(2)); });
       },
       "MisuseError", {"(2)"}},
      {"LBFGSB with crossed bounds",
       [] {
         return nothing([] { optim::LBFGSB{.bounds = optim::Bounds::of(1.0, 0.0)}.run([](const Tensor& x) { return sum(x); }, vec(2)); });
       },
       "ValueError", {"LBFGSB", "lower bound", "upper bound"}},
      {"LBFGSB with bounds of the wrong size",
       [] {
         return nothing([] {
           optim::LBFGSB{.bounds = {.lower = {0.0, 0.0, 0.0}}}.run([](const Tensor& x) { return sum(x); }, vec(2));
         });
       },
       "ShapeError", {"LBFGSB", "3 values", "parameters of 2"}},
      {"LevenbergMarquardt on residuals that are NaN at the start",
       [] {
         return optim::to_string(
             optim::LevenbergMarquardt{}.run([](const Tensor& x) { return log(x - 10.0); }, vec(2)).state.status);
       },
       "none", {"non_finite"}},
      {"LevenbergMarquardt on residuals whose number changes",
       [] {
         auto r = [](const Tensor& x) {
           return x.value()(0) > 0.5 ? x * 2.0 : concatenate({x, x});  // 2 residuals at the start, 4 after a step
         };
         return optim::to_string(optim::LevenbergMarquardt{}.run(r, Tensor(Array{1.0, 1.0})).state.status);
       },
       "ShapeError", {"LevenbergMarquardt", "2 values at x and 4 at the trial point"}},
      {"Newton on a system of the wrong size",
       [] { return nothing([] { optim::Newton{}.run([](const Tensor& x) { return sum(x); }, vec(2)); }); },
       "ShapeError", {"F returned 1 values for 2 unknowns"}},
  });
}

TEST_CASE("implicit: a derivative through a solve that did not converge is refused") {
  auto inner = [](const Tensor& w, const Tensor& a) { return sum(square(w - a)) + sum(square(square(w))); };
  run({
      {"argmin through one LBFGS iteration",
       [&] {
         return nothing([&] {
           grad([&](const Tensor& a) {
             auto [w, st] = implicit::argmin(optim::LBFGS{.maxiter = 1, .tol = 1e-14}, inner, vec(3, 0.0), a);
             return sum(w);
           })(vec(3, 2.0));
         });
       },
       "Error", {"argmin", "max_iterations"}},
  });
}

TEST_CASE("archives: a missing file, a shape mismatch, a truncated file") {
  const std::string file = "bad_input_archive.npz";
  tree::save(file, std::vector<Tensor>{vec(3), mat(2, 2)});
  run({
      {"load of a missing file", [] { return nothing([] { tree::load("no/such/file.npz", vec(3)); }); }, "ValueError",
       {"no/such/file.npz"}},
      {"load into a tree whose leaf has another shape",
       [&] { return nothing([&] { tree::load(file, std::vector<Tensor>{vec(4), mat(2, 2)}); }); }, "ValueError",
       {"[0]", "(3)", "(4)"}},
      {"load of a truncated file",
       [&] {
         return nothing([&] {
           std::FILE* in = std::fopen(file.c_str(), "rb");
           std::string bytes(4096, '\0');
           bytes.resize(std::fread(bytes.data(), 1, bytes.size(), in));
           std::fclose(in);
           std::FILE* out = std::fopen("bad_input_truncated.npz", "wb");
           std::fwrite(bytes.data(), 1, bytes.size() / 2, out);
           std::fclose(out);
           tree::load("bad_input_truncated.npz", std::vector<Tensor>{vec(3), mat(2, 2)});
         });
       },
       "ValueError", {"bad_input_truncated.npz"}},
  });
  std::remove(file.c_str());
  std::remove("bad_input_truncated.npz");
}

TEST_CASE("threads: a pullback or a traced tensor used on another thread") {
  auto f = [](const Tensor& x) { return sum(exp(x)); };
  run({
      {"pullback called on another thread",
       [&] {
         auto [y, pb] = vjp(f, vec(2));
         std::string what = "no exception";
         std::thread([&] {
           try {
             pb(Tensor(1.0));
           } catch (const MisuseError& e) {
             what = e.what();
           }
         }).join();
         throw MisuseError(what);  // report what the other thread saw
         return std::string();
       },
       "MisuseError", {"vjp", "another thread"}},
      {"pullback moved to another thread and destroyed there",
       [&] {
         auto [y, pb] = vjp(f, vec(2));
         std::thread([p = std::move(pb)]() mutable { auto dead = std::move(p); }).join();
         return "levels " + std::to_string(ad::live_levels()) + " nodes " + std::to_string(ad::tape_size());
       },
       "none", {"levels 0 nodes 0"}},
  });
}
