from studies.run import main

raise SystemExit(main())
