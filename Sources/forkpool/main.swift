// forkpool: an HTTP job service that runs tasks in forked worker processes.
//
//   forkpool serve [flags]    run the server (supervisor, pool, front-ends)
//   forkpool status [flags]   show a running server's state from its segment
import ForkPoolServer

ForkPool.main()
