# Copyright (c) mmookd authors. All rights reserved.
"""Class names (and palettes) of the VIS datasets mmookd knows.

``VIS_METAINFO[version]`` is the ``metainfo`` dict of a dataset version.
Category ids in the official JSON files are 1-based and in this order.
"""

# SynthVIS: the generated benchmark (see ``mmookd.datasets.synthvis``).
# Ordered from the most to the least frequent class in the default set.
SYNTHVIS_CLASSES = ('disc', 'square', 'triangle', 'ring', 'cross', 'star',
                    'hexagon', 'crescent')

SYNTHVIS_METAINFO = dict(
    classes=SYNTHVIS_CLASSES,
    palette=[(220, 20, 60), (0, 130, 200), (60, 180, 75), (255, 225, 25),
             (145, 30, 180), (245, 130, 48), (70, 240, 240), (240, 50, 230)])

# YouTube-VIS 2019: category ids 1..40 of the official JSON, in this order.
YTVIS_2019_CLASSES = ('person', 'giant_panda', 'lizard', 'parrot',
                      'skateboard', 'sedan', 'ape', 'dog', 'snake', 'monkey',
                      'hand', 'rabbit', 'duck', 'cat', 'cow', 'fish', 'train',
                      'horse', 'turtle', 'bear', 'motorbike', 'giraffe',
                      'leopard', 'fox', 'deer', 'owl', 'surfboard', 'airplane',
                      'truck', 'zebra', 'tiger', 'elephant', 'snowboard',
                      'boat', 'shark', 'mouse', 'frog', 'eagle',
                      'earless_seal', 'tennis_racket')

# YouTube-VIS 2021 (and 2022, which keeps the 2021 label set): ids 1..40.
YTVIS_2021_CLASSES = ('airplane', 'bear', 'bird', 'boat', 'car', 'cat', 'cow',
                      'deer', 'dog', 'duck', 'earless_seal', 'elephant',
                      'fish', 'flying_disc', 'fox', 'frog', 'giant_panda',
                      'giraffe', 'horse', 'leopard', 'lizard', 'monkey',
                      'motorbike', 'mouse', 'parrot', 'person', 'rabbit',
                      'shark', 'skateboard', 'snake', 'snowboard', 'squirrel',
                      'surfboard', 'tennis_racket', 'tiger', 'train', 'truck',
                      'turtle', 'whale', 'zebra')

# OVIS: ids 1..25, spelled as in the official JSON ('Vehical' included).
OVIS_CLASSES = ('Person', 'Bird', 'Cat', 'Dog', 'Horse', 'Sheep', 'Cow',
                'Elephant', 'Bear', 'Zebra', 'Giraffe', 'Poultry',
                'Giant_panda', 'Lizard', 'Parrot', 'Monkey', 'Rabbit', 'Tiger',
                'Fish', 'Turtle', 'Bicycle', 'Motorcycle', 'Airplane', 'Boat',
                'Vehical')

YTVIS_2019_METAINFO = dict(classes=YTVIS_2019_CLASSES)
YTVIS_2021_METAINFO = dict(classes=YTVIS_2021_CLASSES)
YTVIS_2022_METAINFO = dict(classes=YTVIS_2021_CLASSES)
OVIS_METAINFO = dict(classes=OVIS_CLASSES)

# ``dataset_version`` of ``VISDataset`` -> its metainfo.
VIS_METAINFO = dict(
    youtube_vis_2019=YTVIS_2019_METAINFO,
    youtube_vis_2021=YTVIS_2021_METAINFO,
    youtube_vis_2022=YTVIS_2022_METAINFO,
    ovis=OVIS_METAINFO,
    synthvis=SYNTHVIS_METAINFO)
