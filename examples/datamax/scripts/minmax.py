# Seed 002's datamax tool, with the standard library in place of pandas (the images here
# are built without network access, so nothing is installed with pip).
import argparse
import json
import logging
import os

LOG_LEVEL = os.environ.get('LOG_LEVEL', 'INFO')


def show_df(data):
    for column, values in data.items():
        print(f'{column}: min {min(values)} max {max(values)}')


if __name__ == '__main__':
    arg_parser = argparse.ArgumentParser(
        description='Some example python data analysis available via the command line')
    arg_parser.add_argument('-f', '--filepath', help='Location of the data input file')
    arg_parser.add_argument('-i', '--input', help='Data as literal input')
    args = vars(arg_parser.parse_args())
    logging.basicConfig(level=LOG_LEVEL)
    filepath = args['filepath']
    if filepath:
        logging.info(f'Reading data from file system at {filepath}')
        with open(filepath) as data:
            show_df(json.loads(data.read()))
    elif args['input']:
        logging.info('Reading data from command line input')
        show_df(json.loads(args['input']))
    else:
        logging.error('You must provide a dataset via a file or directly as command line input')
        raise SystemExit(1)
