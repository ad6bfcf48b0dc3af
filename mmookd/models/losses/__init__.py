# Copyright (c) mmookd authors. All rights reserved.
