from zoomsim.cli import main

raise SystemExit(main())
