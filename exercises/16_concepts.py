"""Exercise 16 · Concepts: the checklist in questions.

Ten multiple-choice questions on the ideas behind the whole course. Each has
exactly one right answer. Fill in ``ANSWERS`` below: for each question id
(``"q1"`` … ``"q10"``), one lowercase letter among that question's choices,
for example ``"q1": "a"``. Keep every id, even when you are unsure: an empty or
missing answer scores nothing. Each question is worth one point.

q1. Which sentence defines concurrency?
    a) Running several computations at the same instant on several CPU cores.
    b) Using threads rather than processes.
    c) Structuring a program as tasks whose lifetimes overlap, so that it can
       deal with many things at once, whether or not any two of them ever run
       at the same instant.
    d) Running a program on a machine with more than one core.

q2. On a machine with a single core, a program starts 20 downloads in 20
    threads. Each download spends almost all its time waiting for the network.
    Which is true?
    a) The program is concurrent but not parallel: the waits overlap, though
       only one thread at a time runs on the core.
    b) The program is parallel but not concurrent.
    c) The threads bring nothing: one core can do only one thing at a time, so
       the downloads take as long as they would one after another.
    d) The program is both concurrent and parallel, because it uses threads.

q3. Which of these is NOT one of the four motivations for concurrency?
    a) Hiding I/O wait: doing other work while waiting for a disk or a network.
    b) Using several cores at once.
    c) Modelling a problem made of independent activities (clients, devices,
       simulated agents) as independent tasks.
    d) Making a program's output deterministic and its bugs easier to
       reproduce.
    e) Keeping a program responsive while long work runs in the background.

q4. On a laptop with a single core, a desktop application keeps redrawing its
    window and reacting to its Cancel button while a background thread computes
    a long report in memory (pure computation, no I/O). The report takes no
    less time than before. Which motivation for concurrency is this?
    a) Hiding I/O wait.
    b) Responsiveness.
    c) Using several cores.
    d) Modelling independent activities.

q5. Which statement about latency and throughput is right?
    a) Latency is how many requests complete per second; throughput is the
       time one request takes.
    b) Adding workers to a service always lowers the time each request takes.
    c) Latency is the time one request takes from start to finish; throughput
       is how many requests complete per unit of time. More workers can raise
       throughput without making any single request faster.
    d) Latency and throughput are two names for the same measurement.

q6. On the standard CPython build (the one with a GIL), four threads each run a
    pure-Python, CPU-bound loop on a 4-core machine. Compared with running the
    four loops one after another in a single thread, the four threads take:
    a) About the same time: only the thread holding the GIL executes Python
       bytecode, so the loops take turns.
    b) About a quarter of the time: each thread gets its own core.
    c) Forever: threads that never wait for I/O deadlock on the GIL.
    d) About half the time, because the GIL is handed over every 5 ms.

q7. In Go, GOMAXPROCS caps how many goroutines execute Go code at the same
    instant. On the standard CPython build, what plays that role: what sets how
    many CPU-bound, pure-Python tasks actually run in parallel?
    a) The number of threads in a ``ThreadPoolExecutor``.
    b) ``sys.setswitchinterval()``.
    c) The number of asyncio tasks.
    d) The number of worker processes (for example
       ``ProcessPoolExecutor(max_workers=...)``), bounded by the usable cores,
       since each process runs Python code in only one thread at a time.

q8. In Python 3.8 and later, how many threads may
    ``concurrent.futures.ThreadPoolExecutor()`` start when ``max_workers`` is
    not given?
    a) The number of CPUs.
    b) ``min(32, number of CPUs + 4)``.
    c) 5 times the number of CPUs.
    d) No limit: one thread per submitted task.

q9. On the standard CPython build, which workload gets much faster when it is
    spread over a ``ThreadPoolExecutor`` with 10 threads?
    a) Counting the primes below 10 million with a pure-Python loop.
    b) Sorting one list of ten numbers.
    c) Downloading 100 web pages that each take about a second to answer.
    d) Computing a recursive pure-Python Fibonacci of 35.

q10. A program spends 20% of its single-worker running time in a part that
     cannot be split among workers. What does Amdahl's law say?
     a) No number of workers makes it more than 5 times faster.
     b) With 5 workers it runs 5 times faster.
     c) With enough workers the serial part shrinks too, so the speedup has no
        limit.
     d) A second worker cannot make it any faster.
"""

# TODO: put one letter in each answer, e.g. "q1": "a".
ANSWERS: dict[str, str] = {
    "q1": "",
    "q2": "",
    "q3": "",
    "q4": "",
    "q5": "",
    "q6": "",
    "q7": "",
    "q8": "",
    "q9": "",
    "q10": "",
}
