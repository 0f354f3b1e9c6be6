"""Run one function in several OS processes at once, as gunicorn's workers run on one database."""
import multiprocessing


def race(target, shares, *, timeout=60) -> tuple[list[str], list[int]]:
    """Start `target(*share, start, results)` in one spawned process per share; all begin together at a barrier.

    Each process puts its list of errors on `results`. Returns every error and the exit codes; a process
    still running at the end (a failure elsewhere) is terminated, so no racer outlives the test."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(shares)), context.Queue()
    processes = [context.Process(target=target, args=(*share, start, results)) for share in shares]
    try:
        for process in processes:
            process.start()
        errors = [error for _process in processes for error in results.get(timeout=timeout)]
        for process in processes:
            process.join(timeout=30)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    return errors, [process.exitcode for process in processes]


def write_once(database_url, start, results, work) -> None:
    """In a racing process: wait for the others, then `work(session)` in one transaction under the write lock,
    as a POST does, and commit. Puts [what `work` answered], ["refused"] for a RuleViolation, or the error."""
    from models.db import begin_write, make_engine, make_session
    from models.rules import RuleViolation

    answers, engine = [], make_engine(database_url)
    start.wait()
    with make_session(engine) as session:
        try:
            begin_write(session)
            answer = work(session)
            session.commit()
            answers.append(answer)
        except RuleViolation:
            session.rollback()
            answers.append("refused")
        except Exception as error:  # noqa: BLE001 -- a deadlock or a database error counts as a failure
            session.rollback()
            answers.append(repr(error))
    engine.dispose()
    results.put(answers)
