#include "xgrad/core/parallel.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

// OpenBLAS's thread count, if OpenBLAS is linked into the program (weak: core itself does not link BLAS).
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
}

namespace xgrad::parallel {

namespace {

thread_local bool in_piece = false;  // this thread is running a piece: nested calls run serially

// One call's work: pieces handed out by an atomic counter; the caller and the workers that joined take them.
struct Job {
  const std::function<void(std::size_t)>* body;
  std::size_t n;
  std::size_t seats;  // workers that may still join
  std::atomic<std::size_t> next{0};
  std::mutex m;
  std::size_t error_index = 0;
  std::exception_ptr error;

  void work() {
    in_piece = true;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        (*body)(i);
      } catch (...) {
        std::lock_guard lock(m);
        if (!error || i < error_index) {
          error = std::current_exception();
          error_index = i;
        }
      }
    }
    in_piece = false;
  }
};

// Threads that wait for jobs; created on first use, grown on demand, joined at exit.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Runs `job` on the caller and up to job->seats workers; returns when every participant is done.
  void run(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard lock(m_);
      while (threads_.size() < job->seats) threads_.emplace_back([this] { loop(); });
      job_ = job;
      joined_ = finished_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    job->work();
    std::unique_lock lock(m_);
    job_.reset();  // no worker joins from now on
    done_.wait(lock, [&] { return finished_ == joined_; });
  }

 private:
  void loop() {
    std::uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(m_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (!job_ || job_->seats == 0) continue;
        --job_->seats;
        job = job_;
        ++joined_;
      }
      job->work();
      job.reset();  // the caller's reference is the last: the job (and any exception in it) dies on the caller's thread
      {
        std::lock_guard lock(m_);
        ++finished_;
      }
      done_.notify_all();
    }
  }

  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  std::shared_ptr<Job> job_;
  std::uint64_t generation_ = 0;
  std::size_t joined_ = 0, finished_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}
std::mutex busy;  // one caller uses the pool at a time; others run serially

}  // namespace

std::size_t default_threads() {
  if (const char* env = std::getenv("XGRAD_NUM_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return static_cast<std::size_t>(v);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

void for_each_index(std::size_t n, const std::function<void(std::size_t)>& body, std::size_t threads) {
  if (threads == 0) threads = default_threads();
  auto job = std::make_shared<Job>();
  job->body = &body;
  job->n = n;
  job->seats = std::min(threads, n) > 1 ? std::min(threads, n) - 1 : 0;
  std::unique_lock lock(busy, std::defer_lock);
  if (job->seats == 0 || in_piece || !lock.try_lock()) {
    job->seats = 0;
    const bool nested = in_piece;
    job->work();
    in_piece = nested;
  } else {
    // One BLAS thread per piece while pieces run side by side (the pieces are the parallelism).
    const int blas = openblas_get_num_threads ? openblas_get_num_threads() : 1;
    if (openblas_set_num_threads && blas > 1) openblas_set_num_threads(1);
    pool().run(job);
    if (openblas_set_num_threads && blas > 1) openblas_set_num_threads(blas);
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace xgrad::parallel
